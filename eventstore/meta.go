package eventstore

import (
	"encoding/json"
	"fmt"
)

// MetaVersion is the version of the metadata Meta encodes.
const MetaVersion = 1

// Meta is what the service stores beside every event it appends (the
// event's Metadata): who asked for it, from which resource, with which
// stanza id. Broadcasts use it to answer the requester; audit shows it.
// Like an event, it is a stable, versioned record: fields are added, never
// renamed or given another meaning.
type Meta struct {
	// From is the requester's full JID.
	From string
	// ID is the id of the request's stanza.
	ID string
}

// metaRecord is Meta's stored form. Records written before versions were
// numbered have no "v" and the same fields.
type metaRecord struct {
	V    int    `json:"v,omitempty"`
	From string `json:"from,omitempty"`
	ID   string `json:"id,omitempty"`
}

// EncodeMeta returns m's stored form.
func EncodeMeta(m Meta) []byte {
	b, _ := json.Marshal(metaRecord{V: MetaVersion, From: m.From, ID: m.ID})
	return b
}

// DecodeMeta reads a stored Meta; empty metadata is the zero Meta. A
// version newer than this code knows is refused rather than half read.
func DecodeMeta(b []byte) (Meta, error) {
	if len(b) == 0 {
		return Meta{}, nil
	}
	var r metaRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return Meta{}, fmt.Errorf("eventstore: metadata: %w", err)
	}
	if r.V > MetaVersion {
		return Meta{}, fmt.Errorf("eventstore: metadata version %d is newer than %d", r.V, MetaVersion)
	}
	return Meta{From: r.From, ID: r.ID}, nil
}
