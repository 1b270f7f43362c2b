package noether

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/noether-vk/noether-vk/graph/safetensors"
)

// Executor is a compiled training program (graph.VulkanExec or
// graph.CPUExec) whose Run takes one optimiser step.
type Executor interface {
	Run(feeds map[string][]float32) ([][]float32, error)
	SetParam(name string, v []float32) error
	Param(name string) ([]float32, error)
	OptimState() (int, map[string][]float32, error)
	SetOptimState(step int, m map[string][]float32) error
}

// TrainConfig sets up a training loop.
type TrainConfig struct {
	Epochs    int
	BatchSize int    // examples per step; an epoch drops the last partial batch
	Seed      uint64 // shuffling: epoch e's order depends only on (Seed, e)
	// EvalEvery is the number of epochs between evaluations (0: only
	// after the last epoch).
	EvalEvery int
	// CheckpointEvery bounds the wall time between checkpoints, which are
	// written at epoch ends (0: 10 s); the last epoch always gets one.
	CheckpointEvery time.Duration
	Dir             string // the run folder: metrics.jsonl, checkpoint.safetensors
	Resume          bool   // continue from Dir's checkpoint when there is one
	Progress        io.Writer
	Label           string // names the phase in progress lines and metrics
	// Settings describes everything besides Epochs that the run's numbers
	// depend on; a checkpoint written under other settings is refused.
	Settings string
}

// Trainer runs epochs of shuffled mini-batches through an Executor.
type Trainer struct {
	Config TrainConfig
	Exec   Executor
	// Params are the parameters a checkpoint holds (with the optimiser's
	// moments).
	Params []ParamSpec
	// Data maps each input of the program to its examples, row-major:
	// every input has the same number of rows, and the program's input
	// holds BatchSize of them.
	Data  map[string][]float32
	Width map[string]int // floats per example of each input
	// Eval, when set, evaluates the current parameters; its numbers go
	// into metrics.jsonl and the result.
	Eval func(epoch int) (map[string]float64, error)
}

// Result summarises a finished training run.
type Result struct {
	Epochs    int
	Steps     int
	LastLoss  float64
	Eval      map[string]float64
	Resumed   int // the epoch the run resumed after (0: a fresh run)
	Seconds   float64
	LossCurve []float64 // mean training loss per epoch, from metrics.jsonl (so resumed runs have it whole)
}

const checkpointName = "checkpoint.safetensors"

// Run trains, resuming from a checkpoint when asked.
func (t *Trainer) Run() (*Result, error) {
	c := t.Config
	rows, err := t.rows()
	if err != nil {
		return nil, err
	}
	if c.BatchSize <= 0 || c.BatchSize > rows {
		return nil, fmt.Errorf("noether: train %s: batch size %d with %d examples", c.Label, c.BatchSize, rows)
	}
	if c.Dir == "" {
		return nil, fmt.Errorf("noether: train %s: no run folder", c.Label)
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("noether: train %s: %w", c.Label, err)
	}
	ckpt := filepath.Join(c.Dir, checkpointName)
	res := &Result{}
	start := 0
	if c.Resume {
		epoch, err := t.restore(ckpt)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, err
		default:
			start, res.Resumed = epoch, epoch
		}
	}
	keep := start
	if start == 0 {
		keep = -1 // a fresh run starts a fresh file
	}
	metrics, err := OpenMetrics(filepath.Join(c.Dir, "metrics.jsonl"), "epoch", keep)
	if err != nil {
		return nil, err
	}
	defer metrics.Close()
	perEpoch := rows / c.BatchSize
	bar := NewProgress(progressOut(c.Progress), c.Epochs*perEpoch, c.Label)
	began, lastSave := time.Now(), time.Now()
	feeds := map[string][]float32{}
	for name, w := range t.Width {
		feeds[name] = make([]float32, c.BatchSize*w)
	}
	every := c.CheckpointEvery
	if every == 0 {
		every = 10 * time.Second
	}
	for epoch := start + 1; epoch <= c.Epochs; epoch++ {
		order := rand.New(rand.NewPCG(c.Seed, uint64(epoch))).Perm(rows)
		sum := 0.0
		for b := range perEpoch {
			for name, w := range t.Width {
				src, dst := t.Data[name], feeds[name]
				for i, r := range order[b*c.BatchSize : (b+1)*c.BatchSize] {
					copy(dst[i*w:(i+1)*w], src[r*w:(r+1)*w])
				}
			}
			out, err := t.Exec.Run(feeds)
			if err != nil {
				return nil, fmt.Errorf("noether: train %s: epoch %d: %w", c.Label, epoch, err)
			}
			loss := float64(out[0][0])
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return nil, fmt.Errorf("noether: train %s: the loss is %v at epoch %d: lower the learning rates (the last checkpoint is intact)", c.Label, loss, epoch)
			}
			sum += loss
			res.Steps++
			bar.Update((epoch-1)*perEpoch+b+1, "loss", loss)
		}
		res.LastLoss = sum / float64(perEpoch)
		rec := map[string]any{"phase": c.Label, "epoch": epoch, "loss": res.LastLoss, "seconds": time.Since(began).Seconds()}
		if t.Eval != nil && (epoch == c.Epochs || (c.EvalEvery > 0 && epoch%c.EvalEvery == 0)) {
			ev, err := t.Eval(epoch)
			if err != nil {
				return nil, fmt.Errorf("noether: train %s: evaluating epoch %d: %w", c.Label, epoch, err)
			}
			for k, v := range ev {
				rec[k] = v
			}
			res.Eval = ev
		}
		if err := metrics.Write(rec); err != nil {
			return nil, err
		}
		if epoch == c.Epochs || time.Since(lastSave) >= every {
			if err := t.save(ckpt, epoch); err != nil {
				return nil, err
			}
			lastSave = time.Now()
		}
	}
	bar.Done()
	if err := metrics.Close(); err != nil {
		return nil, err
	}
	recs, err := ReadMetrics(filepath.Join(c.Dir, "metrics.jsonl"))
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if l, ok := r["loss"].(float64); ok {
			res.LossCurve = append(res.LossCurve, l)
		}
	}
	if n := len(res.LossCurve); n > 0 {
		res.LastLoss = res.LossCurve[n-1]
	}
	res.Epochs = c.Epochs
	res.Seconds = time.Since(began).Seconds()
	return res, nil
}

func progressOut(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func (t *Trainer) rows() (int, error) {
	rows := -1
	for name, w := range t.Width {
		d, ok := t.Data[name]
		if !ok || w <= 0 || len(d)%w != 0 {
			return 0, fmt.Errorf("noether: train %s: input %q has %d values for width %d", t.Config.Label, name, len(d), w)
		}
		if rows >= 0 && len(d)/w != rows {
			return 0, fmt.Errorf("noether: train %s: input %q has %d examples, others %d", t.Config.Label, name, len(d)/w, rows)
		}
		rows = len(d) / w
	}
	if rows <= 0 {
		return 0, fmt.Errorf("noether: train %s: no data", t.Config.Label)
	}
	return rows, nil
}

// save writes parameters, optimiser state and the epoch atomically.
func (t *Trainer) save(path string, epoch int) error {
	step, moments, err := t.Exec.OptimState()
	if err != nil {
		return err
	}
	ck := &safetensors.File{Tensors: map[string]safetensors.Tensor{}, Meta: map[string]string{
		"epoch": strconv.Itoa(epoch), "step": strconv.Itoa(step), "seed": strconv.FormatUint(t.Config.Seed, 10),
		"phase": t.Config.Label, "settings": t.Config.Settings,
	}}
	for _, p := range t.Params {
		v, err := t.Exec.Param(p.Name)
		if err != nil {
			return err
		}
		ck.Tensors[p.Name] = safetensors.Tensor{Shape: p.Shape, Data: v}
	}
	for k, v := range moments {
		ck.Tensors[k] = safetensors.Tensor{Shape: []int{len(v)}, Data: v}
	}
	return safetensors.WriteFile(path, ck)
}

// restore loads a checkpoint written by save, returning its epoch.
func (t *Trainer) restore(path string) (int, error) {
	ck, err := safetensors.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if ck.Meta["phase"] != t.Config.Label || ck.Meta["seed"] != strconv.FormatUint(t.Config.Seed, 10) {
		return 0, fmt.Errorf("noether: %s holds phase %q seed %s, not phase %q seed %d: resume with the same settings or use another --out",
			path, ck.Meta["phase"], ck.Meta["seed"], t.Config.Label, t.Config.Seed)
	}
	if ck.Meta["settings"] != t.Config.Settings {
		return 0, fmt.Errorf("noether: %s was written with other settings (%s; now %s): resume with the same flags or use another --out",
			path, ck.Meta["settings"], t.Config.Settings)
	}
	epoch, err1 := strconv.Atoi(ck.Meta["epoch"])
	step, err2 := strconv.Atoi(ck.Meta["step"])
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("noether: %s: bad epoch or step in its metadata; delete it to start over", path)
	}
	moments := map[string][]float32{}
	for _, p := range t.Params {
		ts, ok := ck.Tensors[p.Name]
		if !ok {
			return 0, fmt.Errorf("noether: %s has no parameter %q: it is from another model", path, p.Name)
		}
		if err := t.Exec.SetParam(p.Name, ts.Data); err != nil {
			return 0, fmt.Errorf("noether: %s: %w", path, err)
		}
	}
	for k, ts := range ck.Tensors {
		moments[k] = ts.Data
	}
	if err := t.Exec.SetOptimState(step, moments); err != nil {
		return 0, fmt.Errorf("noether: %s: %w", path, err)
	}
	return epoch, nil
}
