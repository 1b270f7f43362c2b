package noether

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/safetensors"
)

// TrainConfig sets up a training loop.
type TrainConfig struct {
	Epochs    int
	BatchSize int    // examples per step; an epoch drops the last partial batch
	Seed      uint64 // shuffling: epoch e's order depends only on (Seed, e)
	// EvalEvery is the number of epochs between evaluations (0: only
	// after the last epoch).
	EvalEvery int
	// CheckpointEvery bounds the wall time between checkpoints, which are
	// emitted at epoch ends (0: 10 s); the last epoch always gets one.
	CheckpointEvery time.Duration
	// Resume is the checkpoint to continue from (nil: a fresh start). It
	// must have been written with the same Label, Seed and Settings.
	Resume     *safetensors.File
	ResumePath string // where Resume was read, for messages
	Label      string // names the phase in events
	// Settings describes everything besides Epochs that the run's numbers
	// depend on; a checkpoint written under other settings is refused.
	Settings string
}

// Trainer runs epochs of shuffled mini-batches through an executor and
// reports what happens as events to its sinks; it touches no files.
type Trainer struct {
	Config TrainConfig
	Exec   graph.Executor
	// Params are the parameters a checkpoint holds (with the optimiser's
	// moments), by name and shape.
	Params map[string][]int
	// Data maps each input of the program to its examples, row-major:
	// every input has the same number of rows, and the program's input
	// holds BatchSize of them.
	Data  map[string][]float32
	Width map[string]int // floats per example of each input
	// Eval, when set, evaluates the current parameters; its numbers go
	// into the epoch's event and the result.
	Eval  func(epoch int) (map[string]float64, error)
	Sinks []Sink
}

// Result summarises a finished training run.
type Result struct {
	Epochs   int
	Steps    int
	LastLoss float64
	Eval     map[string]float64
	Resumed  int // the epoch the run resumed after (0: a fresh run)
	Seconds  float64
}

// Run trains, resuming from Config.Resume when it is set.
func (t *Trainer) Run() (*Result, error) {
	c := t.Config
	rows, err := t.rows()
	if err != nil {
		return nil, err
	}
	if c.BatchSize <= 0 || c.BatchSize > rows {
		return nil, fmt.Errorf("noether: train %s: batch size %d with %d examples", c.Label, c.BatchSize, rows)
	}
	res := &Result{Epochs: c.Epochs}
	start := 0
	if c.Resume != nil {
		if start, err = t.restore(c.Resume); err != nil {
			return nil, err
		}
		res.Resumed = start
	}
	perEpoch := rows / c.BatchSize
	emit := func(e Event) error { return Emit(t.Sinks, e) }
	if err := emit(StartEvent{Phase: c.Label, Epochs: c.Epochs, StepsPerEpoch: perEpoch, Resumed: start}); err != nil {
		return nil, err
	}
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
			if err := emit(StepEvent{Phase: c.Label, Epoch: epoch, Step: (epoch-1)*perEpoch + b + 1, Loss: loss}); err != nil {
				return nil, err
			}
		}
		res.LastLoss = sum / float64(perEpoch)
		ev := EpochEvent{Phase: c.Label, Epoch: epoch, Loss: res.LastLoss, Seconds: time.Since(began).Seconds()}
		if t.Eval != nil && (epoch == c.Epochs || (c.EvalEvery > 0 && epoch%c.EvalEvery == 0)) {
			if ev.Eval, err = t.Eval(epoch); err != nil {
				return nil, fmt.Errorf("noether: train %s: evaluating epoch %d: %w", c.Label, epoch, err)
			}
			res.Eval = ev.Eval
		}
		if err := emit(ev); err != nil {
			return nil, err
		}
		if epoch == c.Epochs || time.Since(lastSave) >= every {
			state, err := t.state(epoch)
			if err != nil {
				return nil, err
			}
			if err := emit(CheckpointEvent{Phase: c.Label, Epoch: epoch, State: state}); err != nil {
				return nil, err
			}
			lastSave = time.Now()
		}
	}
	res.Seconds = time.Since(began).Seconds()
	if err := emit(DoneEvent{Phase: c.Label, Epochs: c.Epochs, Seconds: res.Seconds}); err != nil {
		return nil, err
	}
	return res, nil
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

// state gathers parameters, optimiser state and the epoch into a
// checkpoint.
func (t *Trainer) state(epoch int) (*safetensors.File, error) {
	step, moments, err := t.Exec.OptimState()
	if err != nil {
		return nil, err
	}
	ck := &safetensors.File{Tensors: map[string]safetensors.Tensor{}, Meta: map[string]string{
		"epoch": strconv.Itoa(epoch), "step": strconv.Itoa(step), "seed": strconv.FormatUint(t.Config.Seed, 10),
		"phase": t.Config.Label, "settings": t.Config.Settings,
	}}
	for name, shape := range t.Params {
		v, err := t.Exec.Param(name)
		if err != nil {
			return nil, err
		}
		ck.Tensors[name] = safetensors.Tensor{Shape: shape, Data: v}
	}
	for k, v := range moments {
		ck.Tensors[k] = safetensors.Tensor{Shape: []int{len(v)}, Data: v}
	}
	return ck, nil
}

// restore loads a checkpoint made by state, returning its epoch.
func (t *Trainer) restore(ck *safetensors.File) (int, error) {
	path := t.Config.ResumePath
	if path == "" {
		path = "the checkpoint of phase " + t.Config.Label
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
	for name := range t.Params {
		ts, ok := ck.Tensors[name]
		if !ok {
			return 0, fmt.Errorf("noether: %s has no parameter %q: it is from another model", path, name)
		}
		if err := t.Exec.SetParam(name, ts.Data); err != nil {
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
