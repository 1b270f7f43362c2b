package noether

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/noether-vk/noether-vk/graph"
)

// A StepGraph builds one training step on a batch of examples into g: its
// loss and the updates the step applies (graph.Update: parameters, their
// gradients of that loss, Adam, clipping). The loss must be a mean over
// the batch's examples, each example's term independent of the others, so
// that a batch's loss and gradients are the share-weighted means of its
// slices'. Called once per program, it must build the same graph each
// time but for the batch size.
type StepGraph func(g *graph.Graph, batch int) (loss *graph.Node, updates []graph.Update, err error)

// DataParallel trains one step on several backends at once, as a
// graph.Executor that a Trainer runs like any other. Every step, each
// backend replays its own recorded gradient program on its slice of the
// batch (the slices as equal as possible, in order); the host sums the
// gradients, each weighted by its slice's share of the batch, so the sum
// is the full batch's mean gradient up to the rounding of the sum; then
// every backend applies the step's updates to its own copy of the
// parameters with the same recorded update program, and the copies are
// compared: they must stay bit-identical, and a step after which they
// differ is an error. Results equal one backend's up to that rounding.
//
// Two programs per backend, where one backend uses one: the update needs
// the gradient of every slice, which exists only after all have run.
type DataParallel struct {
	replicas []replica
	batch    int
	updated  []updatedParam // every parameter the updates move, in the updates' order
	moved    map[string]bool
}

// replica is one backend's share of the work.
type replica struct {
	name        string // the backend's Name, for messages
	first, rows int    // its slice of every batch
	grad        graph.Executor
	update      graph.Executor
}

// updatedParam is a parameter the updates move.
type updatedParam struct {
	name  string
	shape graph.Shape
}

// gradInput names the update program's input that carries a parameter's
// summed gradient.
func gradInput(param string) string { return "grad of " + param }

// NewDataParallel compiles the step for each backend's slice of batches
// of batch examples and loads it there. Parameters start at zero on every
// backend, as a loaded program's do; set them with SetParam. A batch
// smaller than the number of backends is refused: every backend needs at
// least one example.
func NewDataParallel(backends []graph.Backend, batch int, step StepGraph) (*DataParallel, error) {
	if len(backends) == 0 {
		return nil, errors.New("noether: data parallel: no backend to train on")
	}
	if batch < len(backends) {
		return nil, fmt.Errorf("noether: data parallel: a batch of %d examples cannot be split over %d devices (each needs at least one example): use a batch of %d or more, or fewer devices",
			batch, len(backends), len(backends))
	}
	dp := &DataParallel{batch: batch, moved: map[string]bool{}}
	first := 0
	for i, b := range backends {
		rows := batch / len(backends)
		if i < batch%len(backends) {
			rows++
		}
		r, err := dp.load(b, i, first, rows, step)
		if err != nil {
			dp.Close()
			return nil, err
		}
		dp.replicas = append(dp.replicas, r)
		first += rows
	}
	return dp, nil
}

// load builds, compiles and loads backend i's two programs.
func (dp *DataParallel) load(b graph.Backend, i, first, rows int, step StepGraph) (replica, error) {
	r := replica{name: b.Name(), first: first, rows: rows}
	fail := func(what string, err error) (replica, error) {
		r.close()
		return replica{}, fmt.Errorf("noether: data parallel: device %d (%s): %s: %w", i, r.name, what, err)
	}
	g := graph.New()
	loss, updates, err := step(g, rows)
	if err != nil {
		return fail("building the step", err)
	}
	if len(updates) == 0 {
		return fail("building the step", errors.New("the step updates no parameter, so there is nothing to train"))
	}
	outs := []*graph.Node{loss}
	var params []updatedParam
	for _, u := range updates {
		outs = append(outs, u.Grads...)
		for _, p := range u.Params {
			params = append(params, updatedParam{name: p.Name(), shape: p.Shape()})
		}
	}
	if i == 0 {
		dp.updated = params
		for _, p := range params {
			dp.moved[p.name] = true
		}
	} else if !slices.EqualFunc(params, dp.updated, func(a, b updatedParam) bool { return a.name == b.name && a.shape.Equal(b.shape) }) {
		return fail("building the step", errors.New("its updates differ from device 0's: the step must build the same graph for every batch size"))
	}
	prog, err := g.Compile(graph.CompileOptions{}, outs...)
	if err != nil {
		return fail("compiling the gradient program", err)
	}
	if r.grad, err = b.Load(prog); err != nil {
		return fail("loading the gradient program", err)
	}
	prog, err = updateProgram(updates)
	if err != nil {
		return fail("compiling the update program", err)
	}
	if r.update, err = b.Load(prog); err != nil {
		return fail("loading the update program", err)
	}
	return r, nil
}

// updateProgram compiles updates as a program of their own, whose inputs
// are the gradients: the step's parameters, Adam and clipping as they are,
// fed a gradient computed elsewhere.
func updateProgram(updates []graph.Update) (*graph.Program, error) {
	g := graph.New()
	var ups []graph.Update
	var params []*graph.Node
	for _, u := range updates {
		nu := graph.Update{Adam: u.Adam, ClipNorm: u.ClipNorm}
		for _, p := range u.Params {
			np := g.Param(p.Name(), p.Shape()...)
			nu.Params = append(nu.Params, np)
			nu.Grads = append(nu.Grads, g.Input(gradInput(p.Name()), p.Shape()...))
		}
		params = append(params, nu.Params...)
		ups = append(ups, nu)
	}
	// A program holds only what its outputs need, and updates need their
	// parameters held: they are the outputs. Run returns them as they
	// were before the update; sync reads the updated ones.
	return g.Compile(graph.CompileOptions{Updates: ups}, params...)
}

// Shares are the examples of every batch that each backend trains on, in
// the order of the backends.
func (dp *DataParallel) Shares() []int {
	out := make([]int, len(dp.replicas))
	for i, r := range dp.replicas {
		out[i] = r.rows
	}
	return out
}

// Run implements graph.Executor: one training step on a batch of the
// step's size, every feed holding the batch's rows. Its one output is the
// batch's loss.
func (dp *DataParallel) Run(feeds map[string][]float32) ([][]float32, error) {
	width := map[string]int{}
	for name, v := range feeds {
		if len(v) == 0 || len(v)%dp.batch != 0 {
			return nil, fmt.Errorf("noether: data parallel: input %q has %d values, not a whole number of rows for a batch of %d", name, len(v), dp.batch)
		}
		width[name] = len(v) / dp.batch
	}
	outs := make([][][]float32, len(dp.replicas))
	err := dp.each(func(i int, r *replica) error {
		slice := make(map[string][]float32, len(feeds))
		for name, v := range feeds {
			w := width[name]
			slice[name] = v[r.first*w : (r.first+r.rows)*w]
		}
		var err error
		outs[i], err = r.grad.Run(slice)
		return err
	})
	if err != nil {
		return nil, err
	}
	loss, grads := dp.sum(outs)
	err = dp.each(func(i int, r *replica) error {
		// Each update gets its own copy: clipping may scale the
		// gradients in place (the CPU executor does it in the feed).
		feed := make(map[string][]float32, len(grads))
		for name, g := range grads {
			feed[name] = slices.Clone(g)
		}
		_, err := r.update.Run(feed)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := dp.sync(); err != nil {
		return nil, err
	}
	return [][]float32{{float32(loss)}}, nil
}

// each runs f for every replica at once, one goroutine each, and joins
// their errors, each naming its device.
func (dp *DataParallel) each(f func(i int, r *replica) error) error {
	errs := make([]error, len(dp.replicas))
	var wg sync.WaitGroup
	for i := range dp.replicas {
		wg.Go(func() {
			if err := f(i, &dp.replicas[i]); err != nil {
				errs[i] = fmt.Errorf("noether: data parallel: device %d (%s): %w", i, dp.replicas[i].name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sum weights each replica's loss and gradients by its share of the batch
// and adds them, in float64 and in the order of the replicas, so that the
// result does not depend on which device finished first. outs[i] is
// replica i's gradient program's outputs: the loss, then the gradients in
// the order of dp.updated.
func (dp *DataParallel) sum(outs [][][]float32) (float64, map[string][]float32) {
	loss := 0.0
	acc := make([][]float64, len(dp.updated))
	for k, p := range dp.updated {
		acc[k] = make([]float64, p.shape.Len())
	}
	for i, r := range dp.replicas {
		w := float64(r.rows) / float64(dp.batch)
		loss += w * float64(outs[i][0][0])
		for k := range dp.updated {
			for j, v := range outs[i][1+k] {
				acc[k][j] += w * float64(v)
			}
		}
	}
	grads := make(map[string][]float32, len(dp.updated))
	for k, p := range dp.updated {
		g := make([]float32, len(acc[k]))
		for j, v := range acc[k] {
			g[j] = float32(v)
		}
		grads[gradInput(p.name)] = g
	}
	return loss, grads
}

// sync reads every replica's updated parameters, checks that the copies
// are bit-identical, and gives them to the replica's gradient program for
// the next step.
func (dp *DataParallel) sync() error {
	for _, p := range dp.updated {
		var ref []float32
		for i := range dp.replicas {
			r := &dp.replicas[i]
			v, err := r.update.Param(p.name)
			if err != nil {
				return fmt.Errorf("noether: data parallel: device %d (%s): %w", i, r.name, err)
			}
			if i == 0 {
				ref = v
			} else if n := differing(ref, v); n > 0 {
				return fmt.Errorf("noether: data parallel: after the update, device %d (%s) holds a copy of %q that differs from device 0's (%s) in %d of %d values: the devices' update kernels round differently; train on identical devices, or on one",
					i, r.name, p.name, dp.replicas[0].name, n, len(v))
			}
			if err := r.grad.SetParam(p.name, v); err != nil {
				return fmt.Errorf("noether: data parallel: device %d (%s): %w", i, r.name, err)
			}
		}
	}
	return nil
}

// differing counts the values of a and b (of one length) whose bits
// differ.
func differing(a, b []float32) int {
	n := 0
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			n++
		}
	}
	return n
}

// SetParam implements graph.Executor: it sets the parameter on every
// backend.
func (dp *DataParallel) SetParam(name string, v []float32) error {
	for i := range dp.replicas {
		r := &dp.replicas[i]
		if err := r.grad.SetParam(name, v); err != nil {
			return err
		}
		if dp.moved[name] {
			if err := r.update.SetParam(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// Param implements graph.Executor: the value on the first backend (every
// backend holds the same).
func (dp *DataParallel) Param(name string) ([]float32, error) {
	r := &dp.replicas[0]
	if dp.moved[name] {
		return r.update.Param(name)
	}
	return r.grad.Param(name)
}

// OptimState implements graph.Executor: the first backend's (every
// backend holds the same).
func (dp *DataParallel) OptimState() (int, map[string][]float32, error) {
	return dp.replicas[0].update.OptimState()
}

// SetOptimState implements graph.Executor: it sets the state on every
// backend.
func (dp *DataParallel) SetOptimState(step int, m map[string][]float32) error {
	for i := range dp.replicas {
		if err := dp.replicas[i].update.SetOptimState(step, m); err != nil {
			return fmt.Errorf("noether: data parallel: device %d (%s): %w", i, dp.replicas[i].name, err)
		}
	}
	return nil
}

// Memory implements graph.Executor: what the first backend holds, which
// trains on the largest share (each of the others holds as much or a
// little less).
func (dp *DataParallel) Memory() graph.MemoryPlan {
	g, u := dp.replicas[0].grad.Memory(), dp.replicas[0].update.Memory()
	return graph.MemoryPlan{Peak: g.Peak + u.Peak, Buffers: append(slices.Clone(g.Buffers), u.Buffers...), Other: g.Other + u.Other, Device: g.Device}
}

// Close implements graph.Executor.
func (dp *DataParallel) Close() {
	for i := range dp.replicas {
		dp.replicas[i].close()
	}
	dp.replicas = nil
}

// close frees what a replica loaded.
func (r *replica) close() {
	for _, e := range []graph.Executor{r.grad, r.update} {
		if e != nil {
			e.Close()
		}
	}
}

var _ graph.Executor = (*DataParallel)(nil)
