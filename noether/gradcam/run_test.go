package gradcam

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/graph/safetensors"
	"github.com/noether-vk/noether-vk/noether/rundir"
	"github.com/noether-vk/noether-vk/noether/video"
)

// smallRun writes a run folder as train --task pixel-pendulum leaves it,
// small: 16x16 frames, 4 test episodes whose first windows have 6 frames
// (5 pairs), an embedding of 8 dimensions at its initialisation, and a
// noether phase in the given state. It returns the folder.
func smallRun(t *testing.T, state string) string {
	t.Helper()
	c, err := video.Preset(video.PixelPendulum, "default")
	if err != nil {
		t.Fatal(err)
	}
	c.Model.ImageSize, c.Data.Height, c.Data.Width = 16, 16, 16
	c.Data.TestEpisodes, c.Data.TrainEpisodes, c.Data.EpisodeLen = 4, 1, 12
	c.Model.NPast, c.Model.NFuture, c.Data.History, c.Data.Horizon = 2, 4, 2, 4
	return writeRun(t, c, state)
}

// smallRampRun is smallRun's folder for train --task ramp: 16x16 clips
// of 6 frames (5 pairs), 4 test clips.
func smallRampRun(t *testing.T) string {
	t.Helper()
	c, err := video.Preset(video.Ramp, "default")
	if err != nil {
		t.Fatal(err)
	}
	c.Model.ImageSize, c.Ramp.Height, c.Ramp.Width = 16, 16, 16
	c.Model.NPast, c.Model.NFuture, c.Ramp.History, c.Ramp.Horizon = 2, 4, 2, 4
	c.Ramp.TrainSequences, c.Ramp.TestSequences, c.Ramp.Objects, c.Ramp.TestObjects, c.Ramp.NovelTestObjects = 3, 4, 4, 3, 1
	return writeRun(t, c, rundir.StateDone)
}

// writeRun writes the run folder of c with an embedding of 8 dimensions
// at its initialisation and a noether phase in the given state.
func writeRun(t *testing.T, c video.Config, state string) string {
	t.Helper()
	c.EmbedDim = 8
	dir := t.TempDir()
	m := rundir.NewManifest()
	m.Settings = map[string]string{"task": string(c.Task), "preset": c.Preset, "seed": "1"}
	m.Commands = []rundir.Invocation{{Args: []string{"noether-vk", "train"}, Code: "test", Started: rundir.Now(), State: state}}
	for _, tc := range c.Phases(video.Noether) {
		m.Phases[tc.Label] = &rundir.PhaseState{State: rundir.StateDone, Settings: tc.Settings, Epochs: tc.Epochs, CheckpointEpoch: tc.Epochs, CheckpointStep: tc.Epochs}
	}
	m.Phases[string(video.Noether)].State = state
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	emb := video.Embedding(3, 16, c.EmbedDim)
	ck := &safetensors.File{Tensors: map[string]safetensors.Tensor{}, Meta: map[string]string{"phase": "noether"}}
	for name, v := range nn.Init(rand.New(rand.NewPCG(1, 2)), emb.Params()) {
		for _, p := range emb.Params() {
			if p.Name == name {
				ck.Tensors[name] = safetensors.Tensor{Shape: p.Shape, Data: v}
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "noether"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "noether", rundir.CheckpointName), ck); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestAnalyzeRun: a small run folder gives maps.safetensors with the
// viewer's tensors and shapes (frames and heat in [0, 1]),
// explained.json with ratios that sum to at most 1, and the figure, on
// the CPU executor (the device path is TestGradCAMSeesItsRegion's).
func TestAnalyzeRun(t *testing.T) {
	dir := smallRun(t, rundir.StateDone)
	r, err := LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Analyze(Options{Sequences: []int{1, 3}, Components: 3, Backend: graph.CPUBackend{}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Steps, []int{2, 3, 4}; !equalInts(got, want) {
		t.Errorf("default steps %v, want %v", got, want)
	}
	if res.PCA.Samples != 4*3 {
		t.Errorf("PCA fitted on %d samples, want 4 sequences x 3 pairs", res.PCA.Samples)
	}
	paths, err := WriteOutputs(filepath.Join(dir, Folder), res)
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	for name, shape := range map[string][]int{"frames": {2, 5, 3, 16, 16}, "heat": {3, 2, 5, 16, 16}, "explained": {3}} {
		tt, ok := f.Tensors[name]
		if !ok || !equalInts(tt.Shape, shape) {
			t.Fatalf("%s: shape %v, want %v", name, tt.Shape, shape)
		}
		if name == "explained" {
			continue
		}
		for _, v := range tt.Data {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("%s holds %v, outside [0, 1]", name, v)
			}
		}
	}
	var e Explained
	b, err := os.ReadFile(paths[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Ratio) != 3 || e.Cumulative[2] > 1+1e-6 || e.Cumulative[2] <= 0 || math.Abs(e.Cumulative[2]-(e.Ratio[0]+e.Ratio[1]+e.Ratio[2])) > 1e-12 {
		t.Errorf("explained.json: %+v", e)
	}
	for i := 1; i < 3; i++ {
		if e.Ratio[i] > e.Ratio[i-1] {
			t.Errorf("ratios not decreasing: %v", e.Ratio)
		}
	}
	if fi, err := os.Stat(paths[2]); err != nil || fi.Size() == 0 {
		t.Errorf("figure: %v", err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLoadRunErrors: each folder Grad-CAM cannot use is refused with an
// error naming what is wrong.
func TestLoadRunErrors(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T) string
		want  []string
	}{
		{"no run folder", func(t *testing.T) string { return t.TempDir() }, []string{"not a run folder", "manifest.json"}},
		{"physics run", func(t *testing.T) string {
			dir := smallRun(t, rundir.StateDone)
			m, _ := rundir.ReadManifest(dir)
			m.Settings["task"] = "pendulum"
			if err := m.Write(dir); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{`task "pendulum"`, "pixel-pendulum"}},
		{"noether not trained", func(t *testing.T) string {
			dir := smallRun(t, rundir.StateDone)
			m, _ := rundir.ReadManifest(dir)
			delete(m.Phases, "noether")
			if err := m.Write(dir); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{"no trained noether phase", "svg done", "--task pixel-pendulum --method noether"}},
		{"ramp noether not trained", func(t *testing.T) string {
			dir := smallRampRun(t)
			m, _ := rundir.ReadManifest(dir)
			delete(m.Phases, "noether")
			if err := m.Write(dir); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{"no trained noether phase", "--task ramp --method noether"}},
		{"noether stopped", func(t *testing.T) string { return smallRun(t, rundir.StateStopped) }, []string{"no trained noether phase", "noether stopped", "--resume"}},
		{"checkpoint missing", func(t *testing.T) string {
			dir := smallRun(t, rundir.StateDone)
			if err := os.Remove(filepath.Join(dir, "noether", rundir.CheckpointName)); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{"checkpoint.safetensors is missing"}},
		{"checkpoint corrupt", func(t *testing.T) string {
			dir := smallRun(t, rundir.StateDone)
			path := filepath.Join(dir, "noether", rundir.CheckpointName)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)-3] ^= 0xff
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{"corrupt"}},
		{"checkpoint of another embedding", func(t *testing.T) string {
			dir := smallRun(t, rundir.StateDone)
			m, _ := rundir.ReadManifest(dir)
			m.Phases["noether"].Settings["embedding-dim"] = "16"
			if err := m.Write(dir); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{"embedding.7.weight", "does not match"}},
		{"unreadable data setting", func(t *testing.T) string {
			dir := smallRun(t, rundir.StateDone)
			m, _ := rundir.ReadManifest(dir)
			m.Phases["noether"].Settings["data"] = "{Seed:1 Colour:blue}"
			if err := m.Write(dir); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{"data setting", "Colour"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadRun(c.setup(t))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestDecodeStruct: the %+v of a nested configuration reads back exactly;
// text that does not print back the same is refused.
func TestDecodeStruct(t *testing.T) {
	type inner struct {
		Gain float64
		Hold int
	}
	type cfg struct {
		Seed   uint64
		Name   string
		On     bool
		Ratio  float32
		Policy inner
	}
	want := cfg{Seed: 7, Name: "x", On: true, Ratio: 0.1, Policy: inner{Gain: -2.5e-7, Hold: 50}}
	var got cfg
	if err := decodeStruct(fmt.Sprintf("%+v", want), &got); err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"", "{Seed:1", "{Seed:x}", "{Seed:1 Hold:2}", "{Seed:01}", "{Seed:1} extra", "Seed:1"} {
		if err := decodeStruct(bad, &got); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestAnalyzeRamp: a ramp run folder is read with its own data settings,
// and every test clip's pairs are fitted and mapped.
func TestAnalyzeRamp(t *testing.T) {
	r, err := LoadRun(smallRampRun(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.Task != RampTask || r.Ramp.Height != 16 || r.Ramp.TestSequences != 4 {
		t.Fatalf("run: task %q, ramp %+v", r.Task, r.Ramp)
	}
	res, err := r.Analyze(Options{Sequences: []int{0, 3}, Components: 2, Backend: graph.CPUBackend{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.FitSequences != 4 || res.Pairs != 5 || res.PCA.Samples != 4*(5-DroppedPairs) || len(res.Frames) != 2*5*3*16*16 {
		t.Errorf("fitted %d sequences, %d pairs, %d samples, %d frame values; want 4, 5, %d, %d",
			res.FitSequences, res.Pairs, res.PCA.Samples, len(res.Frames), 4*(5-DroppedPairs), 2*5*3*16*16)
	}
}
