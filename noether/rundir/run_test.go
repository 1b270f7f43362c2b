package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/noether"
)

// TestOpenModes: a folder holding a run's outputs is refused in Fresh
// mode, continued in Resume mode and emptied of them, and only them, by
// Begin in Overwrite mode; Begin removes temporary files in every mode.
func TestOpenModes(t *testing.T) {
	dir := t.TempDir()
	outputs := []string{"baseline", "loss.png"}
	r, err := Open(dir, Fresh, outputs)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	for _, p := range []string{"baseline/events.jsonl", "baseline/.checkpoint.safetensors.tmp-1", "loss.png", "notes.txt", ".loss.png.tmp-2"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(dir, Fresh, outputs); !errors.Is(err, ErrHoldsRun) || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("Fresh into a run: %v", err)
	}
	r, err = Open(dir, Resume, outputs)
	if err != nil {
		t.Fatal(err)
	}
	removed, err := r.Begin()
	if err != nil || len(removed) != 2 {
		t.Errorf("Begin removed %v (%v), want the two temporary files", removed, err)
	}
	r.Close()
	r, err = Open(dir, Overwrite, outputs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Begin(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	left, _ := os.ReadDir(dir)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	if !reflect.DeepEqual(names, []string{LockName, "notes.txt"}) {
		t.Errorf("after --overwrite the folder holds %v, want the lock and the user's notes", names)
	}
}

// TestLock: a second Open of a held folder fails at once, naming this
// process; a closed one, or a lock file with no holder, is taken.
func TestLock(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir, Fresh, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Resume, nil)
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Errorf("second Open: %v", err)
	}
	r.Close()
	if err := os.WriteFile(filepath.Join(dir, LockName), []byte("2147483000 killed run\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err = Open(dir, Resume, nil)
	if err != nil {
		t.Fatalf("a lock file left by a killed run: %v", err)
	}
	r.Close()
}

// TestManifestSink: the sink records each phase's progress and end, and
// the changes of rates; the manifest reads back as written.
func TestManifestSink(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir, Fresh, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Manifest = NewManifest()
	r.Manifest.Settings = map[string]string{"task": "pendulum"}
	r.Manifest.Commands = []Invocation{{Args: []string{"noether-vk", "train"}, Code: "dev", Started: Now(), State: StateRunning}}
	r.Manifest.Phases["fit"] = &PhaseState{State: StatePending, Epochs: 4, Settings: map[string]string{"lr": "0.1"}}
	sink := r.Sink()
	for _, e := range []noether.Event{
		noether.StartEvent{Phase: "fit", Epochs: 4, Resumed: 2, Changes: []noether.Change{{Name: "lr", From: "0.2", To: "0.1"}}},
		noether.CheckpointEvent{Phase: "fit", Epoch: 3, Step: 7},
		noether.StopEvent{Phase: "fit", Epoch: 3, Step: 7},
		noether.StartEvent{Phase: "other"},
	} {
		if err := sink.Handle(e); err != nil {
			t.Fatal(err)
		}
	}
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := &PhaseState{State: StateStopped, Epochs: 4, Settings: map[string]string{"lr": "0.1"}, CheckpointEpoch: 3, CheckpointStep: 7,
		Changes: []SettingChange{{Epoch: 2, Name: "lr", From: "0.2", To: "0.1"}}}
	if !reflect.DeepEqual(m.Phases["fit"], want) || len(m.Phases) != 1 || !reflect.DeepEqual(m, r.Manifest) {
		t.Errorf("manifest %+v, phase %+v; want %+v", m, m.Phases["fit"], want)
	}
}

func TestDecodeManifestErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{``, "not a manifest"},
		{`{"format": 2}`, "format 2"},
		{`{"format": 1, "extra": true}`, "unknown field"},
		{`{"format": 1} {}`, "not a manifest"},
		{`{"format": 1, "phases": {"b": {"state": "odd"}}}`, "state"},
		{`{"format": 1, "phases": {"b": {"state": "done", "epochs": 2, "checkpoint_epoch": 3, "checkpoint_step": 3}}}`, "epoch 3"},
		{`{"format": 1, "commands": [{"args": [], "state": "done"}]}`, "command 1"},
		{`{"format": 1, "results": {"vanilla": null}}`, "no record"},
	} {
		if _, err := DecodeManifest([]byte(c.src)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.src, err, c.want)
		}
	}
}
