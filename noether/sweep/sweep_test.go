package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/rundir"
	"github.com/noether-vk/noether-vk/noether/shard"
)

// fakeRunner stands for train: a point's run trains a "baseline" phase
// (unless its folder has one) and records its method's result, whose
// numbers are computed from its settings.
type fakeRunner struct {
	trained []string      // the folders in which a baseline was trained
	ran     []int         // the points run, by index
	fail    map[int]error // points whose run fails, by index
}

func (f *fakeRunner) Plan(p Point) (Plan, error) {
	task, _ := p.Value("task")
	seed, _ := p.Value("seed")
	method, _ := p.Value("method")
	if method == "bad" {
		return Plan{}, errors.New("no such method")
	}
	result := map[string]string{"task": task}
	for _, s := range p.Settings {
		if s.Name != "seed" && s.Name != "method" {
			result[s.Name] = s.Value
		}
	}
	return Plan{Method: method, Run: map[string]string{"task": task, "seed": seed}, Result: result,
		Shared: Phase{Label: "baseline", Settings: map[string]string{"task": task}, Epochs: 10}}, nil
}

// number is the fake result of a point: distinct for every setting.
func number(p Point, name string) float64 {
	seed, _ := p.Value("seed")
	s, _ := strconv.Atoi(seed)
	v := float64(len(p.String())) + float64(s*s)/10
	if name == "train_rmse" {
		v /= 2
	}
	return v
}

func (f *fakeRunner) Run(p Point, dir string) error {
	f.ran = append(f.ran, p.Index)
	if err := f.fail[p.Index]; err != nil {
		return err
	}
	plan, _ := f.Plan(p)
	run, err := rundir.Open(dir, rundir.Resume, []string{"baseline"})
	if err != nil {
		return err
	}
	defer run.Close()
	m := run.Manifest
	if m == nil {
		m = rundir.NewManifest()
	}
	m.Settings = plan.Run
	m.Commands = append(m.Commands, rundir.Invocation{Args: []string{"fake"}, State: rundir.StateDone})
	ck := filepath.Join(dir, "baseline", rundir.CheckpointName)
	if _, err := os.Stat(ck); err != nil {
		if err := os.MkdirAll(filepath.Dir(ck), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(ck, []byte("weights of "+dir), 0o644); err != nil {
			return err
		}
		f.trained = append(f.trained, dir)
	}
	m.Phases["baseline"] = &rundir.PhaseState{State: rundir.StateDone, Settings: plan.Shared.Settings, Epochs: 10, CheckpointEpoch: 10, CheckpointStep: 10}
	m.Results[plan.Method] = &rundir.Result{State: rundir.StateDone, Settings: plan.Result,
		Numbers: map[string]float64{"test_rmse": number(p, "test_rmse"), "train_rmse": number(p, "train_rmse")}}
	run.Manifest = m
	return run.Save()
}

const tablesFile = `{
  "description": "two tasks",
  "numbers": ["test_rmse", "train_rmse"],
  "common": {"seed": [0, 1, 2]},
  "grids": [
    {"task": "pendulum", "method": ["vanilla", "finetune"]},
    {"task": "pendulum", "method": "tailor", "loss": "p^2 - 3*cos(q)", "inner-lr": [1, 3.16]},
    {"task": "spring", "method": "vanilla"}
  ]
}`

func load(t *testing.T, text, out string, r Runner) *Sweep {
	t.Helper()
	f, err := Decode([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(f, out, r)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// whole is the sweep as one shard.
var whole = shard.Shard{Index: 0, Count: 1}

func TestPoints(t *testing.T) {
	f, err := Decode([]byte(tablesFile))
	if err != nil {
		t.Fatal(err)
	}
	points, err := f.Points()
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 15 {
		t.Fatalf("%d points, want 3 seeds x 5", len(points))
	}
	// The common axis is the outermost: seed 0's points come first.
	want := []string{
		"seed=0 task=pendulum method=vanilla",
		"seed=0 task=pendulum method=finetune",
		`seed=0 task=pendulum method=tailor loss="p^2 - 3*cos(q)" inner-lr=1`,
		`seed=0 task=pendulum method=tailor loss="p^2 - 3*cos(q)" inner-lr=3.16`,
		"seed=0 task=spring method=vanilla",
		"seed=1 task=pendulum method=vanilla",
	}
	for i, w := range want {
		if got := points[i].String(); got != w {
			t.Errorf("point %d: %s, want %s", i, got, w)
		}
	}
	// The number is kept as written, and the folder names the varying
	// settings, a formula by its hash.
	if got := strings.Join(points[3].Args(), " "); got != "--seed 0 --task pendulum --method tailor --loss p^2 - 3*cos(q) --inner-lr 3.16" {
		t.Errorf("args %s", got)
	}
	if got, want := points[3].Dir, filepath.Join("pendulum", "tailor", "inner-lr=3.16,loss="+word("p^2 - 3*cos(q)"), "seed0"); got != want {
		t.Errorf("run folder %s, want %s", got, want)
	}
	if got, want := points[0].Dir, filepath.Join("pendulum", "vanilla", "seed0"); got != want {
		t.Errorf("run folder %s, want %s", got, want)
	}
	if len(word("p^2 - 3*cos(q)")) != 8 || word("..") == ".." {
		t.Errorf("word: %q %q", word("p^2 - 3*cos(q)"), word(".."))
	}
}

func TestDecodeRefuses(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{`{"grids": [{"task": "spring", "method": "vanilla"}]}`, "no seed"},
		{`{"grids": [{"task": "spring", "seed": 0}]}`, "no method"},
		{`{"grids": [{"method": "vanilla", "seed": 0}]}`, "no task"},
		{`{"grids": []}`, "no grids"},
		{`{"grid": [{"task": "spring"}]}`, "unknown field"},
		{`{"grids": [{"task": "spring", "method": "vanilla", "seed": 0, "out": "x"}]}`, "sets out"},
		{`{"grids": [{"task": "spring", "method": "vanilla", "seed": 0, "resume": true}]}`, "sets resume"},
		{`{"grids": [{"task": "spring", "method": "vanilla,tailor", "seed": 0}]}`, "one method per point"},
		{`{"grids": [{"task": "spring", "method": "vanilla", "seed": []}]}`, "empty list"},
		{`{"grids": [{"task": "spring", "method": "vanilla", "seed": [[0]]}]}`, "want a string"},
		{`{"grids": [{"task": "spring", "method": "vanilla", "seed": null}]}`, "want a string"},
		{`{"grids": [{"task": "spring", "method": "vanilla", "seed": 0, "seed": 1}]}`, "twice in one grid"},
		{`{"grids": [{"task": "spring", "method": "vanilla", "--lr": 1, "seed": 0}]}`, "without their dashes"},
		{`{"common": {"seed": 0}, "grids": [{"task": "spring", "method": "vanilla", "seed": 1}]}`, "common"},
		{`{"grids": [{"task": "spring", "method": ["vanilla", "vanilla"], "seed": 0}]}`, "listed twice"},
		{`{"grids": [{"task": "spring", "method": "vanilla", "seed": 0}]} {}`, "more than one"},
		{`[1]`, "not a sweep file"},
	} {
		_, err := Decode([]byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.text, err, tc.want)
		}
	}
}

// TestNewChecksEveryPoint: every wrong point is named before anything
// runs.
func TestNewChecksEveryPoint(t *testing.T) {
	f, err := Decode([]byte(`{"grids": [{"task": "spring", "method": ["bad", "vanilla"], "seed": [4, 5]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(f, t.TempDir(), &fakeRunner{})
	if err == nil || !strings.Contains(err.Error(), "2 of 4 points are wrong") || !strings.Contains(err.Error(), "point 2 (task=spring method=bad seed=5): no such method") {
		t.Errorf("error %v", err)
	}
}

// groupFile lists each method's seeds together: the points of a task and
// seed, which share a baseline, are far apart in it.
const groupFile = `{
  "description": "two tasks",
  "numbers": ["test_rmse", "train_rmse"],
  "grids": [
    {"task": "pendulum", "method": ["vanilla", "finetune"], "seed": [0, 1, 2]},
    {"task": "pendulum", "method": "tailor", "loss": "p^2 - 3*cos(q)", "inner-lr": [1, 3.16], "seed": [0, 1, 2]},
    {"task": "spring", "method": "vanilla", "seed": [0, 1, 2]}
  ]
}`

// TestShardsRunAndMerge runs a sweep as three shards: together they run
// every point once, each baseline is trained once (a point borrows one a
// finished point has), a second run skips everything, and the merged
// table holds every number with its statistics over the seeds.
func TestShardsRunAndMerge(t *testing.T) {
	out := t.TempDir()
	r := &fakeRunner{}
	s := load(t, groupFile, out, r)
	if _, err := s.Merge(); err == nil || !strings.Contains(err.Error(), "15 of 15 points are not complete") {
		t.Errorf("merge before running: %v", err)
	}
	// Points sharing a baseline are adjacent in the order shards split.
	if got := fmt.Sprint(s.order); got != "[0 3 6 9 1 4 7 10 2 5 8 11 12 13 14]" {
		t.Errorf("order %s, want each task and seed's points together", got)
	}
	var log bytes.Buffer
	for i := range 3 {
		outcomes, err := s.Run(shard.Shard{Index: i, Count: 3}, r, &log, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(outcomes) != 5 {
			t.Errorf("shard %d ran %d points, want 5", i, len(outcomes))
		}
	}
	if len(r.ran) != 15 {
		t.Errorf("%d points run, want 15", len(r.ran))
	}
	// 6 baselines (2 tasks x 3 seeds): the shards' boundaries split two
	// pendulum groups, and the later shard borrows the finished baseline.
	if len(r.trained) != 6 {
		t.Errorf("%d baselines trained, want 6 (one per task and seed): %q", len(r.trained), r.trained)
	}
	r.ran = nil
	if _, err := s.Run(whole, r, &log, nil); err != nil || len(r.ran) != 0 {
		t.Errorf("second run: ran %v, error %v", r.ran, err)
	}
	tab, err := s.Merge()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tab.Columns, ","); got != "task,method,inner-lr,loss" {
		t.Errorf("columns %s", got)
	}
	if len(tab.Rows) != 5 {
		t.Fatalf("%d rows, want 5", len(tab.Rows))
	}
	row := tab.Rows[3] // tailor at 3.16
	if row.Settings["inner-lr"] != "3.16" || strings.Join(row.Seeds, ",") != "0,1,2" {
		t.Fatalf("row 4: %+v", row)
	}
	st := row.Stats["test_rmse"]
	var want []float64
	for _, i := range []int{9, 10, 11} {
		want = append(want, number(s.Points[i], "test_rmse"))
	}
	mean := (want[0] + want[1] + want[2]) / 3
	sd := math.Sqrt(((want[0]-mean)*(want[0]-mean) + (want[1]-mean)*(want[1]-mean) + (want[2]-mean)*(want[2]-mean)) / 2)
	if fmt.Sprint(st.Values) != fmt.Sprint(want) || math.Abs(st.Mean-mean) > 1e-12 || st.SD == nil || math.Abs(*st.SD-sd) > 1e-12 ||
		st.Min != want[0] || st.Max != want[2] {
		t.Errorf("stats %+v, want values %v, mean %v, sd %v", st, want, mean, sd)
	}
	var md bytes.Buffer
	if err := tab.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("| pendulum | tailor | 3.16 | p^2 - 3*cos(q) | 0, 1, 2 | %s | %s | %s / %s / %s |", Format(mean), Format(sd),
		Format(want[0]), Format(want[1]), Format(want[2]))
	if !strings.Contains(md.String(), line) {
		t.Errorf("markdown lacks\n%s\n%s", line, md.String())
	}
	if !strings.Contains(md.String(), "| pendulum | vanilla | - | - | 0, 1, 2 |") {
		t.Errorf("markdown: a setting a row lacks is not a dash:\n%s", md.String())
	}
	if _, err := json.Marshal(tab); err != nil {
		t.Error(err)
	}
}

// TestMergeRefusesOtherSettings: a result recorded under other settings
// than the sweep's (the file was edited) is not merged.
func TestMergeRefusesOtherSettings(t *testing.T) {
	out := t.TempDir()
	r := &fakeRunner{}
	one := `{"grids": [{"task": "spring", "method": "tailor", "seed": 0, "epochs": %d}]}`
	s := load(t, fmt.Sprintf(one, 5), out, r)
	if _, err := s.Run(whole, r, &bytes.Buffer{}, nil); err != nil {
		t.Fatal(err)
	}
	s = load(t, fmt.Sprintf(one, 7), out, r)
	_, err := s.Merge()
	if err == nil || !strings.Contains(err.Error(), `epochs "5", not "7"`) {
		t.Errorf("merge: %v", err)
	}
}

// TestFailuresAndStops: a failed point is named and the others still
// run; a stop, or an error every point would meet, ends the shard at once.
func TestFailuresAndStops(t *testing.T) {
	r := &fakeRunner{fail: map[int]error{1: errors.New("diverged")}}
	s := load(t, `{"grids": [{"task": "spring", "method": ["a", "b", "c"], "seed": 0}]}`, t.TempDir(), r)
	outcomes, err := s.Run(whole, r, &bytes.Buffer{}, nil)
	if err == nil || !strings.Contains(err.Error(), "point #2 (task=spring method=b seed=0): diverged") || len(outcomes) != 3 {
		t.Errorf("%d outcomes, error %v", len(outcomes), err)
	}
	if _, err := s.Merge(); err == nil || !strings.Contains(err.Error(), "1 of 3 points") {
		t.Errorf("merge: %v", err)
	}
	r = &fakeRunner{fail: map[int]error{0: fmt.Errorf("train: %w", noether.ErrStopped)}}
	s = load(t, `{"grids": [{"task": "spring", "method": ["a", "b"], "seed": 0}]}`, t.TempDir(), r)
	outcomes, err = s.Run(whole, r, &bytes.Buffer{}, nil)
	if !errors.Is(err, noether.ErrStopped) || len(outcomes) != 1 || len(r.ran) != 1 {
		t.Errorf("stop: ran %v, error %v", r.ran, err)
	}
	// A stop requested while a point ran ends the run before the next.
	stop := make(chan struct{})
	r = &fakeRunner{}
	s = load(t, `{"grids": [{"task": "spring", "method": ["a", "b"], "seed": 0}]}`, t.TempDir(), stopAfterFirst{r, stop})
	outcomes, err = s.Run(whole, stopAfterFirst{r, stop}, &bytes.Buffer{}, stop)
	if !errors.Is(err, noether.ErrStopped) || !strings.Contains(err.Error(), "before point #2") || len(outcomes) != 1 || len(r.ran) != 1 {
		t.Errorf("stop between points: ran %v, error %v", r.ran, err)
	}
	noDevice := errors.New("no device")
	r = &fakeRunner{fail: map[int]error{0: Halt(noDevice)}}
	s = load(t, `{"grids": [{"task": "spring", "method": ["a", "b"], "seed": 0}]}`, t.TempDir(), r)
	outcomes, err = s.Run(whole, r, &bytes.Buffer{}, nil)
	if !errors.Is(err, noDevice) || !strings.HasSuffix(err.Error(), ": no device") || len(outcomes) != 1 || len(r.ran) != 1 {
		t.Errorf("halt: ran %v, error %v", r.ran, err)
	}
}

// TestLendSkipsHeldFolders: a lender whose folder another process holds
// lends nothing; the point trains its own baseline.
func TestLendSkipsHeldFolders(t *testing.T) {
	out := t.TempDir()
	r := &fakeRunner{}
	s := load(t, `{"grids": [{"task": "spring", "method": ["a", "b"], "seed": 0}]}`, out, r)
	if _, err := s.Run(shard.Shard{Index: 0, Count: 2}, r, &bytes.Buffer{}, nil); err != nil {
		t.Fatal(err)
	}
	held, err := rundir.Open(s.Dir(0), rundir.Resume, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if _, err := s.Run(shard.Shard{Index: 1, Count: 2}, r, &bytes.Buffer{}, nil); err != nil {
		t.Fatal(err)
	}
	if len(r.trained) != 2 {
		t.Errorf("baselines trained in %q, want both folders", r.trained)
	}
	// Unheld, it lends: a copy of the lender's files, nothing left over.
	held.Close()
	if err := os.RemoveAll(s.Dir(1)); err != nil {
		t.Fatal(err)
	}
	lent, err := s.lend(1)
	if err != nil || !lent {
		t.Fatalf("lend: %v, %v", lent, err)
	}
	got, err := os.ReadFile(filepath.Join(s.Dir(1), "baseline", rundir.CheckpointName))
	if err != nil || string(got) != "weights of "+s.Dir(0) {
		t.Errorf("lent checkpoint %q, %v", got, err)
	}
	entries, _ := os.ReadDir(s.Dir(1))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".copy-") {
			t.Errorf("left %s", e.Name())
		}
	}
}

// stopAfterFirst requests a stop while its first point runs, which
// finishes all the same (as a point that does not train does).
type stopAfterFirst struct {
	*fakeRunner
	stop chan struct{}
}

func (s stopAfterFirst) Run(p Point, dir string) error {
	if len(s.ran) == 0 {
		close(s.stop)
	}
	return s.fakeRunner.Run(p, dir)
}

func TestFormat(t *testing.T) {
	for v, want := range map[float64]string{0.05512: "0.0551", 0.1: "0.1000", 54.31: "54.31", 1.0874: "1.087", 0.00012345: "0.0001234", 0: "0.0000"} {
		if got := Format(v); got != want {
			t.Errorf("Format(%v) = %s, want %s", v, got, want)
		}
	}
}
