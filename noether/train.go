package noether

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
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
	// Resume is the checkpoint to continue from (nil: a fresh start); see
	// Check for what it must agree with.
	Resume     *safetensors.File
	ResumePath string // where Resume was read, for messages
	Label      string // names the phase in events
	// Settings holds everything besides Epochs that the run's numbers
	// depend on, by name (the command line's flag names, so that messages
	// name the flag); a checkpoint written under other settings is refused.
	Settings map[string]string
	// Changeable names the settings that may differ from the checkpoint's:
	// learning rates lowered on purpose to continue past a divergence. The
	// run continues from the checkpoint under the new values, and
	// StartEvent lists what changed.
	Changeable []string
	// Stop, when closed, ends the run after the current step: the trainer
	// emits a checkpoint of that step and a StopEvent, and Run returns an
	// error wrapping ErrStopped. Resuming from that checkpoint gives what
	// an uninterrupted run gives.
	Stop <-chan struct{}
}

// ErrStopped is wrapped by the error of a run ended through
// TrainConfig.Stop.
var ErrStopped = errors.New("stopped on request")

// ErrDiverged is wrapped by the error of a run whose loss became NaN or
// infinite.
var ErrDiverged = errors.New("training diverged")

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
	Eval func(epoch int) (map[string]float64, error)
	// Noise, when set, gives inputs drawn afresh for every step (SVG-LP's
	// noise samples), by the step's number (1-based, counted over epochs)
	// alone, so that a resumed run draws what an uninterrupted one would.
	Noise func(step int) map[string][]float32
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

// Position is where a checkpoint stands in its phase.
type Position struct {
	Epoch int // complete epochs
	// Batch counts the batches of the next epoch already trained (a run
	// stopped mid-epoch), and LossSum their losses' sum, so that the epoch's
	// mean loss comes out as an uninterrupted run's.
	Batch   int
	LossSum float64
	// OptimStep is the optimiser's step count.
	OptimStep int
}

// Change is a setting that differs from the checkpoint's.
type Change struct{ Name, From, To string }

// Run trains, resuming from Config.Resume when it is set.
func (t *Trainer) Run() (*Result, error) {
	c := t.Config
	if t.stopped() {
		return nil, fmt.Errorf("noether: train %s: %w before its first step", c.Label, ErrStopped)
	}
	rows, err := t.rows()
	if err != nil {
		return nil, err
	}
	if c.BatchSize <= 0 || c.BatchSize > rows {
		return nil, fmt.Errorf("noether: train %s: batch size %d with %d examples", c.Label, c.BatchSize, rows)
	}
	res := &Result{Epochs: c.Epochs}
	var at Position
	var changes []Change
	saved := -1 // the epoch of the last checkpoint on record (-1: none)
	perEpoch := rows / c.BatchSize
	if c.Resume != nil {
		if at, changes, err = t.restore(c.Resume, perEpoch); err != nil {
			return nil, err
		}
		res.Resumed, saved = at.Epoch, at.Epoch
	}
	emit := func(e Event) error { return Emit(t.Sinks, e) }
	if err := emit(StartEvent{Phase: c.Label, Epochs: c.Epochs, StepsPerEpoch: perEpoch, Resumed: at.Epoch, Changes: changes}); err != nil {
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
	// checkpoint emits the state after batch b of epoch (b = 0: at the
	// epoch's end), sum being the loss sum of that epoch's batches so far.
	checkpoint := func(epoch, b int, sum float64) error {
		state, err := t.state(Position{Epoch: epoch, Batch: b, LossSum: sum})
		if err != nil {
			return err
		}
		if err := emit(CheckpointEvent{Phase: c.Label, Epoch: epoch, Step: epoch*perEpoch + b, State: state}); err != nil {
			return err
		}
		saved, lastSave = epoch, time.Now()
		return nil
	}
	stop := func(epoch, step int) error {
		if err := emit(StopEvent{Phase: c.Label, Epoch: epoch, Step: step}); err != nil {
			return err
		}
		return fmt.Errorf("noether: train %s: %w after step %d of %d; the checkpoint holds it", c.Label, ErrStopped, step, c.Epochs*perEpoch)
	}
	for epoch := at.Epoch + 1; epoch <= c.Epochs; epoch++ {
		order := rand.New(rand.NewPCG(c.Seed, uint64(epoch))).Perm(rows)
		sum, first := 0.0, 0
		if epoch == at.Epoch+1 {
			sum, first = at.LossSum, at.Batch
		}
		for b := first; b < perEpoch; b++ {
			for name, w := range t.Width {
				src, dst := t.Data[name], feeds[name]
				for i, r := range order[b*c.BatchSize : (b+1)*c.BatchSize] {
					copy(dst[i*w:(i+1)*w], src[r*w:(r+1)*w])
				}
			}
			step := (epoch-1)*perEpoch + b + 1
			if t.Noise != nil {
				maps.Copy(feeds, t.Noise(step))
			}
			out, err := t.Exec.Run(feeds)
			if err != nil {
				return nil, fmt.Errorf("noether: train %s: epoch %d: %w", c.Label, epoch, err)
			}
			loss := float64(out[0][0])
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				last := "no checkpoint was written yet: start the phase over with lower learning rates"
				if saved >= 0 {
					last = fmt.Sprintf("its last checkpoint (epoch %d) is intact: resume from it with lower learning rates", saved)
				}
				return nil, fmt.Errorf("noether: train %s: the loss is %v at epoch %d: %w; %s", c.Label, loss, epoch, ErrDiverged, last)
			}
			sum += loss
			res.Steps++
			if err := emit(StepEvent{Phase: c.Label, Epoch: epoch, Step: step, Loss: loss}); err != nil {
				return nil, err
			}
			if b+1 < perEpoch && t.stopped() {
				if err := checkpoint(epoch-1, b+1, sum); err != nil {
					return nil, err
				}
				return nil, stop(epoch-1, step)
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
		stopping := epoch < c.Epochs && t.stopped()
		if epoch == c.Epochs || stopping || time.Since(lastSave) >= every {
			if err := checkpoint(epoch, 0, 0); err != nil {
				return nil, err
			}
		}
		if stopping {
			return nil, stop(epoch, epoch*perEpoch)
		}
	}
	res.Seconds = time.Since(began).Seconds()
	if err := emit(DoneEvent{Phase: c.Label, Epochs: c.Epochs, Seconds: res.Seconds}); err != nil {
		return nil, err
	}
	return res, nil
}

// stopped reports whether Config.Stop has been closed.
func (t *Trainer) stopped() bool { return Stopped(t.Config.Stop) }

// Stopped reports whether a stop channel (TrainConfig.Stop) has been
// closed; a nil one never is.
func Stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
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

// Checkpoint metadata keys.
const (
	metaPhase     = "phase"
	metaSeed      = "seed"
	metaSettings  = "settings" // Settings as a JSON object
	metaBatchSize = "batch_size"
	metaEpoch     = "epoch"
	metaBatch     = "batch"
	metaLossSum   = "loss_sum"
	metaStep      = "step" // the optimiser's step count
)

// state gathers parameters, optimiser state and the position into a
// checkpoint.
func (t *Trainer) state(at Position) (*safetensors.File, error) {
	step, moments, err := t.Exec.OptimState()
	if err != nil {
		return nil, err
	}
	settings, err := json.Marshal(t.Config.Settings)
	if err != nil {
		return nil, fmt.Errorf("noether: train %s: encoding its settings: %w", t.Config.Label, err)
	}
	ck := &safetensors.File{Tensors: map[string]safetensors.Tensor{}, Meta: map[string]string{
		metaEpoch: strconv.Itoa(at.Epoch), metaBatch: strconv.Itoa(at.Batch), metaLossSum: strconv.FormatFloat(at.LossSum, 'g', -1, 64),
		metaStep: strconv.Itoa(step), metaSeed: strconv.FormatUint(t.Config.Seed, 10), metaBatchSize: strconv.Itoa(t.Config.BatchSize),
		metaPhase: t.Config.Label, metaSettings: string(settings),
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

// Check tells whether the checkpoint ck, made by a Trainer, can be resumed
// under c: the same phase, seed, batch size and Settings (but for the
// Changeable ones, which it returns when they differ), and a position
// within c.Epochs: a longer run continues a shorter one, but a checkpoint
// beyond c.Epochs is refused, since its model would be reported under a
// label it does not have. Every disagreement is listed, by setting name.
func (c TrainConfig) Check(ck *safetensors.File) (Position, []Change, error) {
	path := c.ResumePath
	if path == "" {
		path = "the checkpoint of phase " + c.Label
	}
	m := ck.Meta
	if m[metaPhase] != c.Label || m[metaSeed] != strconv.FormatUint(c.Seed, 10) {
		return Position{}, nil, fmt.Errorf("noether: %s holds phase %q seed %s, not phase %q seed %d: resume with the same settings or use another run folder",
			path, m[metaPhase], m[metaSeed], c.Label, c.Seed)
	}
	var old map[string]string
	if err := json.Unmarshal([]byte(m[metaSettings]), &old); err != nil || old == nil {
		return Position{}, nil, fmt.Errorf("noether: %s was written by an earlier version, whose settings (%.60q) cannot be compared: start the phase over", path, m[metaSettings])
	}
	var at Position
	var err1, err2, err3, err4 error
	at.Epoch, err1 = strconv.Atoi(m[metaEpoch])
	at.Batch, err2 = strconv.Atoi(m[metaBatch])
	at.LossSum, err3 = strconv.ParseFloat(m[metaLossSum], 64)
	at.OptimStep, err4 = strconv.Atoi(m[metaStep])
	if err := errors.Join(err1, err2, err3, err4); err != nil || at.Epoch < 0 || at.Batch < 0 || at.OptimStep < 0 {
		return Position{}, nil, fmt.Errorf("noether: %s: bad position in its metadata (epoch %q, batch %q, loss sum %q, step %q); delete it to start the phase over",
			path, m[metaEpoch], m[metaBatch], m[metaLossSum], m[metaStep])
	}
	var differ []string
	var changes []Change
	now := maps.Clone(c.Settings)
	if bs := m[metaBatchSize]; bs != strconv.Itoa(c.BatchSize) {
		old["batch size"], now["batch size"] = bs, strconv.Itoa(c.BatchSize)
	}
	for _, k := range slices.Sorted(maps.Keys(union(old, now))) {
		was, is := old[k], now[k]
		switch {
		case was == is:
		case slices.Contains(c.Changeable, k):
			changes = append(changes, Change{Name: k, From: was, To: is})
		default:
			differ = append(differ, fmt.Sprintf("%s %s (now %s)", k, orNone(was), orNone(is)))
		}
	}
	if len(differ) > 0 {
		return Position{}, nil, fmt.Errorf("noether: %s was written with other settings: %s", path, strings.Join(differ, ", "))
	}
	if at.Epoch > c.Epochs || at.Epoch == c.Epochs && at.Batch > 0 {
		return Position{}, nil, fmt.Errorf("noether: %s is at epoch %d, beyond this run's %d: a shorter run than the checkpoint's is refused (its model would be reported as %d epochs' own); ask for %d or more",
			path, at.Epoch, c.Epochs, c.Epochs, at.Epoch)
	}
	return at, changes, nil
}

// union is a map with the keys of both.
func union(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// orNone shows a missing setting.
func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// restore loads a checkpoint made by state once Check accepts it.
func (t *Trainer) restore(ck *safetensors.File, perEpoch int) (Position, []Change, error) {
	at, changes, err := t.Config.Check(ck)
	if err != nil {
		return Position{}, nil, err
	}
	path := t.Config.ResumePath
	if path == "" {
		path = "the checkpoint of phase " + t.Config.Label
	}
	if at.Batch >= perEpoch {
		return Position{}, nil, fmt.Errorf("noether: %s: stopped after batch %d of an epoch of %d; delete it to start the phase over", path, at.Batch, perEpoch)
	}
	moments := map[string][]float32{}
	for name := range t.Params {
		ts, ok := ck.Tensors[name]
		if !ok {
			return Position{}, nil, fmt.Errorf("noether: %s has no parameter %q: it is from another model", path, name)
		}
		if err := t.Exec.SetParam(name, ts.Data); err != nil {
			return Position{}, nil, fmt.Errorf("noether: %s: %w", path, err)
		}
	}
	for k, ts := range ck.Tensors {
		moments[k] = ts.Data
	}
	if err := t.Exec.SetOptimState(at.OptimStep, moments); err != nil {
		return Position{}, nil, fmt.Errorf("noether: %s: %w", path, err)
	}
	return at, changes, nil
}
