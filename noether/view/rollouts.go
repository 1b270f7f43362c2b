package view

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/noether-vk/noether-vk/graph/safetensors"
	"github.com/noether-vk/noether-vk/noether"
)

// RolloutsName is the file of a run folder that keeps the trainer's
// rollout samples (noether.RolloutEvent) for the viewer.
const RolloutsName = "rollouts.safetensors"

// Rollout is one method's sample predictions against the truth:
// Truth[i][t] and Pred[i][t] are example i's state at step t, flattened
// row-major with shape Shape ([2] for (q, p); [C, H, W] for a frame).
type Rollout struct {
	Method      string
	Shape       []int
	Truth, Pred [][][]float32
	StepRMSE    []float64
}

// Steps is the longest example's number of steps.
func (r *Rollout) Steps() int {
	n := 0
	for _, t := range r.Truth {
		n = max(n, len(t))
	}
	return n
}

// RolloutWriter is the sink that keeps every rollout event in the run
// folder's RolloutsName (one entry per phase, the latest event's; the
// file rewritten atomically at each), so that the viewer can show a
// finished run. Rollout events are rare (one per method), so it writes
// on the trainer's thread.
type RolloutWriter struct {
	path     string
	mu       sync.Mutex
	rollouts []Rollout
}

// NewRolloutWriter writes into the run folder dir, keeping the rollouts
// of the methods an earlier run there recorded (a resumed run adds or
// replaces methods).
func NewRolloutWriter(dir string) (*RolloutWriter, error) {
	w := &RolloutWriter{path: filepath.Join(dir, RolloutsName)}
	old, err := ReadRollouts(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	w.rollouts = old
	return w, nil
}

// Handle implements noether.Sink.
func (w *RolloutWriter) Handle(e noether.Event) error {
	ev, ok := e.(noether.RolloutEvent)
	if !ok {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	r := Rollout{Method: ev.Phase, Shape: ev.StateShape, Truth: ev.Truth, Pred: ev.Pred, StepRMSE: ev.StepRMSE}
	if i := slices.IndexFunc(w.rollouts, func(o Rollout) bool { return o.Method == r.Method }); i >= 0 {
		w.rollouts[i] = r
	} else {
		w.rollouts = append(w.rollouts, r)
	}
	return writeRollouts(w.path, w.rollouts)
}

// The file: per method m and example i, tensors "m/truth/i" and
// "m/pred/i" of shape [steps, Shape...] and "m/step_rmse" [steps];
// metadata "methods" lists the methods in order, comma-separated.
func writeRollouts(path string, rs []Rollout) error {
	f := &safetensors.File{Tensors: map[string]safetensors.Tensor{}, Meta: map[string]string{}}
	var names []string
	for _, r := range rs {
		if strings.ContainsAny(r.Method, ",/") {
			return fmt.Errorf("view: rollouts of method %q: a method name may not hold ',' or '/'", r.Method)
		}
		names = append(names, r.Method)
		size := 1
		for _, s := range r.Shape {
			size *= s
		}
		for kind, examples := range map[string][][][]float32{"truth": r.Truth, "pred": r.Pred} {
			for i, steps := range examples {
				data := make([]float32, 0, len(steps)*size)
				for t, x := range steps {
					if len(x) != size {
						return fmt.Errorf("view: rollouts of %s: %s %d step %d holds %d values, want %d (shape %v)", r.Method, kind, i, t, len(x), size, r.Shape)
					}
					data = append(data, x...)
				}
				f.Tensors[fmt.Sprintf("%s/%s/%d", r.Method, kind, i)] = safetensors.Tensor{Shape: append([]int{len(steps)}, r.Shape...), Data: data}
			}
		}
		rmse := make([]float32, len(r.StepRMSE))
		for t, v := range r.StepRMSE {
			rmse[t] = float32(v)
		}
		f.Tensors[r.Method+"/step_rmse"] = safetensors.Tensor{Shape: []int{len(rmse)}, Data: rmse}
	}
	f.Meta["methods"] = strings.Join(names, ",")
	return safetensors.WriteFile(path, f)
}

// ReadRollouts reads the rollouts a run folder keeps, in the order they
// were written; an error wrapping fs.ErrNotExist when it keeps none.
func ReadRollouts(dir string) ([]Rollout, error) {
	f, err := safetensors.ReadFile(filepath.Join(dir, RolloutsName))
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	var out []Rollout
	for _, m := range strings.Split(f.Meta["methods"], ",") {
		if m == "" {
			continue
		}
		r := Rollout{Method: m}
		for kind, into := range map[string]*[][][]float32{"truth": &r.Truth, "pred": &r.Pred} {
			for i := 0; ; i++ {
				t, ok := f.Tensors[m+"/"+kind+"/"+strconv.Itoa(i)]
				if !ok {
					break
				}
				if len(t.Shape) < 2 {
					return nil, fmt.Errorf("view: %s: %s/%s/%d has shape %v, want [steps, state...]", RolloutsName, m, kind, i, t.Shape)
				}
				r.Shape = t.Shape[1:]
				size := len(t.Data) / max(t.Shape[0], 1)
				steps := make([][]float32, t.Shape[0])
				for s := range steps {
					steps[s] = t.Data[s*size : (s+1)*size]
				}
				*into = append(*into, steps)
			}
		}
		if len(r.Truth) != len(r.Pred) {
			return nil, fmt.Errorf("view: %s: %s has %d true and %d predicted examples", RolloutsName, m, len(r.Truth), len(r.Pred))
		}
		for _, v := range f.Tensors[m+"/step_rmse"].Data {
			r.StepRMSE = append(r.StepRMSE, float64(v))
		}
		out = append(out, r)
	}
	return out, nil
}
