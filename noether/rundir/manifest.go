package rundir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/noether-vk/noether-vk/graph/atomicfile"
)

// ManifestName is the run folder's record of itself.
const ManifestName = "manifest.json"

// manifestFormat is the version of the manifest's layout; a reader
// refuses others rather than misread them.
const manifestFormat = 1

// Phase and result states in a manifest.
const (
	StatePending = "pending" // to be run by the command in progress
	StateRunning = "running" // in progress, or ended by a crash or kill -9
	StateDone    = "done"
	StateStopped = "stopped" // stopped on request, with a checkpoint to resume from
	StateFailed  = "failed"  // see Error
)

// Manifest is what a run folder holds, for people and for the next run:
// the commands that wrote it, with their code version, the run-wide
// settings (the data's checksum among them), and each training phase's
// and each result's settings and state. Settings are by the command line's
// flag names, as the checkpoints record them.
type Manifest struct {
	Format   int               `json:"format"`
	Settings map[string]string `json:"settings"`
	// Commands lists every command that wrote into the folder, oldest
	// first.
	Commands []Invocation           `json:"commands"`
	Phases   map[string]*PhaseState `json:"phases"`
	Results  map[string]*Result     `json:"results"`
}

// Invocation is one command that wrote into a run folder.
type Invocation struct {
	Args    []string `json:"args"`
	Code    string   `json:"code_version"`
	Started string   `json:"started"` // RFC 3339
	Ended   string   `json:"ended,omitempty"`
	State   string   `json:"state"` // a State* constant
	Error   string   `json:"error,omitempty"`
	// Devices are the devices the command trained on, "index: name",
	// the first the one that evaluated; several for data-parallel
	// training.
	Devices []string `json:"devices,omitempty"`
}

// PhaseState is a training phase's record: its settings, how far its
// checkpoint is, and how it ended.
type PhaseState struct {
	State    string            `json:"state"`
	Settings map[string]string `json:"settings"`
	Epochs   int               `json:"epochs"` // the target
	// CheckpointEpoch and CheckpointStep are where the phase's checkpoint
	// stands: complete epochs, and steps (beyond whole epochs when a stop
	// came mid-epoch).
	CheckpointEpoch int    `json:"checkpoint_epoch"`
	CheckpointStep  int    `json:"checkpoint_step"`
	Error           string `json:"error,omitempty"`
	// Changes lists the settings changed on resuming (rates lowered to
	// continue past a divergence), in order.
	Changes []SettingChange `json:"changes,omitempty"`
}

// SettingChange is a setting changed when a phase resumed after epoch
// Epoch.
type SettingChange struct {
	Epoch int    `json:"after_epoch"`
	Name  string `json:"name"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// Result is one reported result (a method's row): its settings, its
// numbers, or why it failed.
type Result struct {
	State    string             `json:"state"`
	Settings map[string]string  `json:"settings"`
	Numbers  map[string]float64 `json:"numbers,omitempty"`
	Error    string             `json:"error,omitempty"`
}

// NewManifest is the manifest of a new run folder.
func NewManifest() *Manifest {
	return &Manifest{Format: manifestFormat, Phases: map[string]*PhaseState{}, Results: map[string]*Result{}}
}

// ReadManifest reads the manifest of the run folder dir; a folder without
// one gives an error wrapping fs.ErrNotExist.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestName)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rundir: reading manifest: %w", err)
	}
	m, err := DecodeManifest(b)
	if err != nil {
		return nil, fmt.Errorf("rundir: %s: %w", path, err)
	}
	return m, nil
}

// DecodeManifest parses and checks a manifest: its format version, no
// unknown fields, states and counts that make sense.
func DecodeManifest(b []byte) (*Manifest, error) {
	var head struct {
		Format int `json:"format"`
	}
	// Unmarshal refuses anything after the object too.
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("not a manifest (%v): was it edited? --overwrite replaces the run", err)
	}
	if head.Format != manifestFormat {
		return nil, fmt.Errorf("manifest format %d, this version reads %d: use the noether-vk that wrote it, or --overwrite", head.Format, manifestFormat)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a manifest (%v): was it edited? --overwrite replaces the run", err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("bad manifest: %w: was it edited? --overwrite replaces the run", err)
	}
	return &m, nil
}

// check reports the first thing in m that no run writes.
func (m *Manifest) check() error {
	states := []string{StatePending, StateRunning, StateDone, StateStopped, StateFailed}
	for i, c := range m.Commands {
		if len(c.Args) == 0 || !slices.Contains(states, c.State) {
			return fmt.Errorf("command %d has arguments %q and state %q", i+1, c.Args, c.State)
		}
	}
	for name, p := range m.Phases {
		switch {
		case name == "" || p == nil:
			return fmt.Errorf("phase %q has no record", name)
		case !slices.Contains(states, p.State):
			return fmt.Errorf("phase %s: state %q", name, p.State)
		case p.Epochs < 0 || p.CheckpointEpoch < 0 || p.CheckpointEpoch > p.Epochs || p.CheckpointStep < p.CheckpointEpoch:
			return fmt.Errorf("phase %s: checkpoint at epoch %d step %d of %d epochs", name, p.CheckpointEpoch, p.CheckpointStep, p.Epochs)
		}
		for _, c := range p.Changes {
			if c.Name == "" || c.Epoch < 0 || c.Epoch > p.Epochs {
				return fmt.Errorf("phase %s: change of %q after epoch %d", name, c.Name, c.Epoch)
			}
		}
	}
	for name, r := range m.Results {
		if name == "" || r == nil || !slices.Contains(states, r.State) {
			return fmt.Errorf("result %q has no record or a bad state", name)
		}
	}
	return nil
}

// Write writes the manifest into dir, atomically.
func (m *Manifest) Write(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("rundir: encoding manifest: %w", err)
	}
	return atomicfile.Write(filepath.Join(dir, ManifestName), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// readManifestIfAny is ReadManifest with nil for a folder without one.
func readManifestIfAny(dir string) (*Manifest, error) {
	m, err := ReadManifest(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return m, err
}
