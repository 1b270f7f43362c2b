package rundir

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenEventLogResume(t *testing.T) {
	const three = `{"config":"x"}` + "\n" +
		`{"epoch":1,"loss":0.5}` + "\n" +
		`{"epoch":2,"loss":0.25}` + "\n" +
		`{"epoch":3,"loss":0.125}` + "\n"
	tests := []struct {
		name     string
		initial  string // "" means no file
		key      string
		keepUpTo int
		want     string
		err      string
	}{
		{"new file", "", "epoch", 0, "", ""},
		{"keep all", three, "epoch", 3, three, ""},
		{"cut after checkpoint", three, "epoch", 1, `{"config":"x"}` + "\n" + `{"epoch":1,"loss":0.5}` + "\n", ""},
		{"cut everything keyed", three, "epoch", 0, `{"config":"x"}` + "\n", ""},
		{"fresh start", three, "epoch", -1, "", ""},
		{"torn last line dropped", three + `{"epoch":4,"lo`, "epoch", 10, three, ""},
		{"torn line only", `{"ep`, "epoch", 10, "", ""},
		{"other key", `{"step":10}` + "\n" + `{"step":20}` + "\n", "step", 15, `{"step":10}` + "\n", ""},
		{"unkeyed records after cut go too", `{"epoch":1}` + "\n" + `{"epoch":2}` + "\n" + `{"eval":1}` + "\n", "epoch", 1, `{"epoch":1}` + "\n", ""},
		{"bad middle line", `{"epoch":1}` + "\n" + "garbage\n" + `{"epoch":2}` + "\n", "epoch", 5, "", "line 2 is not a JSON object"},
		{"non-object line", "[1,2]\n", "epoch", 5, "", "line 1 is not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.jsonl")
			if tt.initial != "" {
				if err := os.WriteFile(path, []byte(tt.initial), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			m, err := OpenEventLog(path, tt.key, tt.keepUpTo)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err = %v, want %q and the path", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Errorf("file = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEventLogKilledRunResumes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	m, err := OpenEventLog(path, "epoch", -1)
	if err != nil {
		t.Fatal(err)
	}
	type rec struct {
		Epoch int     `json:"epoch"`
		Loss  float64 `json:"loss"`
	}
	for e := 1; e <= 5; e++ {
		if err := m.Write(rec{e, 1 / float64(e)}); err != nil {
			t.Fatal(err)
		}
	}
	// Killed: no Close, and a torn line at the end. Everything written
	// must be readable by another reader right away.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"epoch":6,"lo`)
	f.Close()
	recs, err := ReadEventLog(path)
	if err != nil || len(recs) != 5 {
		t.Fatalf("read %d records, err %v; want 5", len(recs), err)
	}

	// Resume from the checkpoint of epoch 3: epochs 4 and 5 are redone.
	m2, err := OpenEventLog(path, "epoch", 3)
	if err != nil {
		t.Fatal(err)
	}
	for e := 4; e <= 6; e++ {
		if err := m2.Write(map[string]any{"epoch": e, "loss": 0.0}); err != nil {
			t.Fatal(err)
		}
	}
	m2.Close()
	m.Close()
	recs, err = ReadEventLog(path)
	if err != nil {
		t.Fatal(err)
	}
	var epochs []float64
	for _, r := range recs {
		epochs = append(epochs, r["epoch"].(float64))
	}
	if fmt.Sprint(epochs) != "[1 2 3 4 5 6]" {
		t.Errorf("epochs after resume = %v", epochs)
	}
	if recs[1]["loss"].(float64) != 0.5 || recs[4]["loss"].(float64) != 0 {
		t.Errorf("records = %v", recs)
	}
}

func TestEventLogWriteValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	m, err := OpenEventLog(path, "step", -1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tests := []struct {
		name string
		rec  any
		line string // expected last line; "" means an error
		err  string
	}{
		{"map", map[string]any{"step": 1, "loss": 0.5}, `{"loss":0.5,"step":1}`, ""},
		{"non-finite", map[string]any{"a": math.NaN(), "b": math.Inf(1), "c": float32(math.Inf(-1)), "d": 2.0}, `{"a":"NaN","b":"+Inf","c":"-Inf","d":2}`, ""},
		{"struct", struct {
			Step int `json:"step"`
		}{3}, `{"step":3}`, ""},
		{"not an object", []int{1}, "", "not a JSON object"},
		{"nil", nil, "", "not a JSON object"},
		{"unencodable", map[string]any{"f": func() {}}, "", "encoding record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Write(tt.rec)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(path)
			lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			if got := lines[len(lines)-1]; got != tt.line {
				t.Errorf("last line = %s, want %s", got, tt.line)
			}
		})
	}
}

func TestEventLogClosed(t *testing.T) {
	m, err := OpenEventLog(filepath.Join(t.TempDir(), "m.jsonl"), "epoch", -1)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Write(map[string]any{"epoch": 1}); err == nil || !strings.Contains(err.Error(), "after Close") {
		t.Errorf("Write after Close: %v", err)
	}
	if err := m.Close(); err == nil {
		t.Error("second Close succeeded")
	}
}

func TestReadEventLogMissing(t *testing.T) {
	if _, err := ReadEventLog(filepath.Join(t.TempDir(), "none.jsonl")); err == nil || !strings.Contains(err.Error(), "none.jsonl") {
		t.Fatalf("err = %v", err)
	}
}

func ExampleOpenEventLog() {
	dir, _ := os.MkdirTemp("", "events")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "events.jsonl")

	// A first run logs three epochs, then is killed.
	m, _ := OpenEventLog(path, "epoch", -1)
	for epoch := 1; epoch <= 3; epoch++ {
		m.Write(map[string]any{"epoch": epoch, "loss": 1 / float64(epoch)})
	}
	m.Close()

	// The last checkpoint was after epoch 2: the resumed run drops epoch 3
	// and logs it again.
	m, _ = OpenEventLog(path, "epoch", 2)
	m.Write(map[string]any{"epoch": 3, "loss": 0.3})
	m.Close()

	recs, _ := ReadEventLog(path)
	for _, r := range recs {
		fmt.Println(r["epoch"], r["loss"])
	}
	// Output:
	// 1 1
	// 2 0.5
	// 3 0.3
}
