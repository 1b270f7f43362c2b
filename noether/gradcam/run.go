package gradcam

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/rundir"
	"github.com/noether-vk/noether-vk/noether/video"
	"github.com/noether-vk/noether-vk/svg/pendulum"
)

// Task is the run folders' task that Grad-CAM reads: the pixel pendulum.
const Task = "pixel-pendulum"

// Run is what Grad-CAM needs of a trained pixel-pendulum run folder: its
// data, to render the test sequences, and its trained embedding g_phi.
type Run struct {
	Dir  string
	Data pendulum.Config
	// Embedding is the run's g_phi (video.Embedding) and Params its
	// trained parameters, from the noether phase's checkpoint.
	Embedding noether.Model
	Params    map[string][]float32
	// Epochs is how many epochs the noether phase trained.
	Epochs int
}

// LoadRun reads a pixel-pendulum run folder (noether-vk train --task
// pixel-pendulum): its manifest must show a noether phase trained to
// the end, whose settings give the data and the embedding, and whose
// checkpoint holds the embedding's parameters. Each way a folder can fall
// short is an error that names it and what to do.
func LoadRun(dir string) (*Run, error) {
	m, err := rundir.ReadManifest(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("gradcam: %s is not a run folder (no %s): give the --out folder of noether-vk train --task %s", dir, rundir.ManifestName, Task)
	}
	if err != nil {
		return nil, fmt.Errorf("gradcam: %w", err)
	}
	if task := m.Settings["task"]; task != Task {
		return nil, fmt.Errorf("gradcam: %s holds a run of task %q: Grad-CAM maps the Noether embedding of video frames, which only --task %s trains", dir, task, Task)
	}
	label := string(video.Noether)
	ph := m.Phases[label]
	if ph == nil || ph.State != rundir.StateDone {
		return nil, fmt.Errorf("gradcam: %s has no trained %s phase (%s): train it with noether-vk train --task %s --method %s --out %s (add --resume to continue a run)",
			dir, label, phaseStates(m), Task, label, dir)
	}
	r := &Run{Dir: dir, Epochs: ph.Epochs}
	if err := decodeStruct(ph.Settings["data"], &r.Data); err != nil {
		return nil, fmt.Errorf("gradcam: %s: the %s phase's data setting: %w", dir, label, err)
	}
	dim, err := strconv.Atoi(ph.Settings["embedding-dim"])
	if err != nil || dim < 1 {
		return nil, fmt.Errorf("gradcam: %s: the %s phase's embedding-dim setting %q is not a size", dir, label, ph.Settings["embedding-dim"])
	}
	if err := video.CheckEmbedSize(r.Data.Height); err != nil || r.Data.Width != r.Data.Height {
		return nil, fmt.Errorf("gradcam: %s: frames of %dx%d: the embedding takes square frames of a side divisible by 4", dir, r.Data.Height, r.Data.Width)
	}
	r.Embedding = video.Embedding(pendulum.Channels, r.Data.Height, dim)
	path := filepath.Join(dir, label, rundir.CheckpointName)
	ck, err := rundir.ReadCheckpoint(path)
	if err != nil {
		return nil, fmt.Errorf("gradcam: %w", err)
	}
	if ck == nil {
		return nil, fmt.Errorf("gradcam: %s: the manifest says the %s phase is done, but %s is missing: train the phase again (--overwrite, or delete the phase's folder and --resume)", dir, label, path)
	}
	r.Params = map[string][]float32{}
	for _, p := range r.Embedding.Params() {
		t, ok := ck.Tensors[p.Name]
		if !ok || !slices.Equal(t.Shape, p.Shape) {
			return nil, fmt.Errorf("gradcam: %s holds no embedding parameter %s of shape %v (found %v): it does not match the run's settings", path, p.Name, p.Shape, t.Shape)
		}
		r.Params[p.Name] = t.Data
	}
	return r, nil
}

// phaseStates lists a manifest's phases and their states.
func phaseStates(m *rundir.Manifest) string {
	if len(m.Phases) == 0 {
		return "no phases"
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(m.Phases)) {
		parts = append(parts, name+" "+m.Phases[name].State)
	}
	return "phases: " + strings.Join(parts, ", ")
}
