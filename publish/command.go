package publish

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// The commands of design.md section 5, the <name> in
// <prefix>/<device>/cmd/<name>. The client passes any name to the handler;
// these are the ones the agent implements.
const (
	CmdPause    = "pause"    // stop classifying; cameras keep running
	CmdResume   = "resume"   // undo pause
	CmdSnapshot = "snapshot" // report the current frame
	CmdTrigger  = "trigger"  // start an item now, as a light barrier would
	CmdReload   = "reload"   // re-read the config file
	CmdExplain  = "explain"  // LIME overlay of a camera's last item, replied as raw PNG bytes
)

// ErrUnknownCommand is what a handler returns (wrapped) for a name it does
// not implement; the reply then says so.
var ErrUnknownCommand = errors.New("publish: unknown command; known: pause, resume, snapshot, trigger, reload, explain")

// MaxCommandSize bounds a command payload; larger ones are refused
// with an error reply before the handler sees them.
const MaxCommandSize = 64 << 10

// Command is the payload of <prefix>/<device>/cmd/<name>: empty, or a JSON
// object with these optional fields. Unknown fields are errors, so that a
// typo is not silently ignored by a device that then does the wrong thing.
type Command struct {
	Schema int    `json:"schema,omitempty"` // 1 when given
	ID     string `json:"id,omitempty"`     // correlation id, echoed in the reply
	Camera string `json:"camera,omitempty"` // the camera it applies to; empty: all
	// Label and Samples are explain's: the class to explain (empty: the
	// best) and the number of perturbed images (0: the agent's default).
	Label   string `json:"label,omitempty"`
	Samples int    `json:"samples,omitempty"`
}

// rawReply reports whether command name replies with the handler's data
// as it is (an image, as Frigate publishes snapshots) rather than a
// Reply; a failure still gets a Reply with the error.
func rawReply(name string) bool { return name == CmdExplain }

// DecodeCommand reads a command payload: empty (or white space) is the
// zero Command, otherwise one JSON object as documented on Command.
func DecodeCommand(b []byte) (Command, error) {
	var c Command
	if len(b) > MaxCommandSize {
		return c, fmt.Errorf("publish: command payload is %d bytes; at most %d are accepted", len(b), MaxCommandSize)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Command{}, fmt.Errorf("publish: command payload: want nothing or a JSON object such as {\"id\":\"42\",\"camera\":\"belt1\"} (fields: schema, id, camera, label, samples): %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Command{}, errors.New("publish: command payload: unexpected data after the JSON object; send one object")
	}
	if c.Schema < 0 || c.Schema > Schema {
		return Command{}, fmt.Errorf("publish: command payload: schema %d is not supported; this agent speaks schema %d", c.Schema, Schema)
	}
	if c.Camera != "" {
		if err := CheckLevel("camera", c.Camera); err != nil {
			return Command{}, fmt.Errorf("publish: command payload: %w", err)
		}
	}
	if len(c.ID) > 128 {
		return Command{}, fmt.Errorf("publish: command payload: id is %d bytes; use at most 128", len(c.ID))
	}
	return c, nil
}

// Reply is the payload of <prefix>/<device>/cmd/<name>/reply.
type Reply struct {
	Schema  int             `json:"schema"`
	TS      Timestamp       `json:"ts"`
	Device  string          `json:"device"`
	Command string          `json:"command"`
	ID      string          `json:"id,omitempty"` // the command's id
	OK      bool            `json:"ok"`
	Error   string          `json:"error,omitempty"` // why it failed, when !OK
	Data    json.RawMessage `json:"data,omitempty"`  // what the handler returned
}

// NewReply builds the reply to command name with id: OK with data when err
// is nil, else not OK with err's text. data that is not valid JSON is
// carried as a JSON string.
func NewReply(device, name, id string, data []byte, err error, now time.Time) Reply {
	r := Reply{Schema: Schema, TS: Timestamp{now}, Device: device, Command: name, ID: id, OK: err == nil}
	if err != nil {
		r.Error = err.Error()
	}
	switch {
	case len(bytes.TrimSpace(data)) == 0:
	case json.Valid(data):
		var b bytes.Buffer
		if json.Compact(&b, data) == nil {
			r.Data = b.Bytes()
		}
	default:
		r.Data, _ = json.Marshal(string(data)) // a string cannot fail to encode
	}
	return r
}

// DecodeReply reads a Reply payload, like DecodeResult.
func DecodeReply(b []byte) (Reply, error) {
	var r Reply
	if err := decode(b, "reply", &r.Schema, &r); err != nil {
		return Reply{}, err
	}
	return r, nil
}
