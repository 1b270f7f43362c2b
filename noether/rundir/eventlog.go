package rundir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/noether-vk/noether-vk/graph/atomicfile"
)

// EventLog appends training records to an events.jsonl file: one JSON
// object per line. Every Write reaches the disk (write, then fsync) before
// it returns, so a run killed at any moment keeps every record it wrote,
// with at worst a torn last line, which OpenEventLog and ReadEventLog drop.
//
// An EventLog is not safe for concurrent use.
type EventLog struct {
	f    *os.File
	path string
}

// OpenEventLog opens the event log at path for appending, creating it
// if needed, and makes it agree with the checkpoint a run resumes from:
//
//   - a torn last line (no final newline, left by a killed run) is dropped;
//   - the file is cut before the first record whose numeric field key
//     (e.g. "epoch" or "step") is greater than keepUpTo, so that the epochs
//     the resumed run redoes are not listed twice;
//   - keepUpTo < 0 starts afresh: the file is emptied.
//
// Records without the key field before the cut are kept. A complete line
// that is not a JSON object is an error naming its line number, since the
// file was then changed by something other than EventLog.
func OpenEventLog(path, key string, keepUpTo int) (*EventLog, error) {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening event log %s: %w", path, err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		// Make the new directory entry durable too.
		if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, fmt.Errorf("opening event log %s: %w", path, err)
		}
	}
	cut := int64(0)
	if keepUpTo >= 0 {
		b, err := io.ReadAll(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("opening event log %s: %w", path, err)
		}
		cut, err = scanEventLog(b, func(rec map[string]any) bool {
			v, ok := rec[key].(float64)
			return !ok || v <= float64(keepUpTo)
		}, nil)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("opening event log %s: %w", path, err)
		}
	}
	if err := f.Truncate(cut); err != nil {
		f.Close()
		return nil, fmt.Errorf("opening event log %s: truncating to %d bytes: %w", path, cut, err)
	}
	if _, err := f.Seek(cut, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("opening event log %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("opening event log %s: fsync: %w", path, err)
	}
	return &EventLog{f: f, path: path}, nil
}

// scanEventLog walks the complete lines of an event log, calling keep on
// each record until keep returns false, and then emit (if not nil) on the
// kept ones. It returns the byte length of the kept prefix: everything
// before the first rejected record or the torn last line.
func scanEventLog(b []byte, keep func(map[string]any) bool, emit func(map[string]any)) (int64, error) {
	var pos int64
	for line := 1; len(b) > 0; line++ {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break // torn last line
		}
		text := b[:i]
		var rec map[string]any
		if err := json.Unmarshal(text, &rec); err != nil || rec == nil {
			return 0, fmt.Errorf("line %d is not a JSON object (%.40q); fix or delete that line", line, text)
		}
		if keep != nil && !keep(rec) {
			break
		}
		if emit != nil {
			emit(rec)
		}
		pos += int64(i + 1)
		b = b[i+1:]
	}
	return pos, nil
}

// ReadEventLog returns every complete record of an event log, in order;
// a torn last line is ignored. Numbers come back as float64.
func ReadEventLog(path string) ([]map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading event log %s: %w", path, err)
	}
	var recs []map[string]any
	if _, err := scanEventLog(b, nil, func(r map[string]any) { recs = append(recs, r) }); err != nil {
		return nil, fmt.Errorf("reading event log %s: %w", path, err)
	}
	return recs, nil
}

// Write appends rec, which must encode as a JSON object (a map with string
// keys or a struct), as one line, and fsyncs the file. In a
// map[string]any, float values that JSON cannot hold are written as the
// strings "NaN", "+Inf" and "-Inf", so a diverging loss is still logged.
func (m *EventLog) Write(rec any) error {
	if m.f == nil {
		return fmt.Errorf("event log %s: Write after Close", m.path)
	}
	if mv, ok := rec.(map[string]any); ok {
		rec = jsonSafe(mv)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("event log %s: encoding record: %w", m.path, err)
	}
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("event log %s: record %s is not a JSON object; pass a map or a struct", m.path, b)
	}
	b = append(b, '\n')
	// One write call per line: the line is either wholly in the file or
	// torn at its end, never interleaved.
	if _, err := m.f.Write(b); err != nil {
		return fmt.Errorf("event log %s: %w", m.path, err)
	}
	if err := m.f.Sync(); err != nil {
		return fmt.Errorf("event log %s: fsync: %w", m.path, err)
	}
	return nil
}

// jsonSafe returns rec with non-finite float values replaced by strings;
// it returns rec itself when there are none.
func jsonSafe(rec map[string]any) map[string]any {
	var out map[string]any
	for k, v := range rec {
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case float32:
			f = float64(x)
		default:
			continue
		}
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(rec))
			for k2, v2 := range rec {
				out[k2] = v2
			}
		}
		switch {
		case math.IsNaN(f):
			out[k] = "NaN"
		case f > 0:
			out[k] = "+Inf"
		default:
			out[k] = "-Inf"
		}
	}
	if out == nil {
		return rec
	}
	return out
}

// Close closes the file. Every record written is already on disk.
func (m *EventLog) Close() error {
	if m.f == nil {
		return errors.New("event log: already closed")
	}
	err := m.f.Close()
	m.f = nil
	if err != nil {
		return fmt.Errorf("event log %s: %w", m.path, err)
	}
	return nil
}
