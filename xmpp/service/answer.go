package service

import (
	"context"
	"crypto/rand"

	"github.com/uuchat/groupchat/xmpp/protocol"
)

// archiveQuery runs an archive query on a query worker: its results are
// several stanzas, sent in order before the IQ result.
func (s *Service) archiveQuery(ctx context.Context, st protocol.Stanza, r protocol.ArchiveQuery) {
	q := func(ctx context.Context) {
		err := s.catchUpProjections(ctx)
		if err == nil {
			err = s.history.Archive(ctx, st, r)
		}
		if err != nil {
			s.reply(ctx, protocol.ErrorReply(st, protocol.ErrorFor(err)))
		}
	}
	select {
	case s.queries <- q:
	case <-ctx.Done():
	}
}

// catchUpProjections waits until the projections hold every committed
// event, so a query sees what its asker already saw acknowledged.
func (s *Service) catchUpProjections(ctx context.Context) error {
	last, err := s.store.LastPosition(ctx)
	if err != nil {
		return err
	}
	return s.reads.WaitFor(ctx, last)
}

// serviceQuery answers, on a query worker, what the projections know across
// groups, after they have caught up with everything already committed.
func (s *Service) serviceQuery(ctx context.Context, st protocol.Stanza, req protocol.Request) {
	s.answerOnQueryWorker(ctx, st, func(ctx context.Context) ([]byte, error) { return s.answerServiceQuery(ctx, st, req) })
}

// answerOnQueryWorker hands an IQ to a query worker, which answers it with
// the result's payload or with the error answer computes.
func (s *Service) answerOnQueryWorker(ctx context.Context, st protocol.Stanza, answer func(context.Context) ([]byte, error)) {
	q := func(ctx context.Context) {
		payload, err := answer(ctx)
		if err != nil {
			s.reply(ctx, protocol.ErrorReply(st, protocol.ErrorFor(err)))
			return
		}
		s.reply(ctx, protocol.IQResult(st, payload))
	}
	select {
	case s.queries <- q:
	case <-ctx.Done():
	}
}

func (s *Service) answerServiceQuery(ctx context.Context, st protocol.Stanza, req protocol.Request) ([]byte, error) {
	if err := s.catchUpProjections(ctx); err != nil {
		return nil, err
	}
	switch r := req.(type) {
	case protocol.CatchUp:
		return s.history.CatchUp(ctx, st, r)
	case protocol.Readers:
		return s.history.Readers(ctx, st, r)
	}
	return s.directory.Service(ctx, st, req)
}

// newGroupID picks an id for a group created at the service's address.
func newGroupID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
