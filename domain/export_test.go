package domain

import (
	"encoding/json"
	"fmt"
)

// EncodeV1 encodes an event as encoding version 1 (JSON) did, so that the
// tests can prove that records stored in it keep decoding.
func EncodeV1(e Event) (typ string, data []byte, err error) {
	inner, err := json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	data, err = json.Marshal(envelope{V: 1, Data: inner})
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	return e.EventType(), data, nil
}
