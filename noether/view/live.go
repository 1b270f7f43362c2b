package view

import (
	"fmt"
	"math"
	"slices"
	"sync/atomic"

	"github.com/noether-vk/noether-vk/noether"
)

// liveQueue is how many events wait for the viewer before new ones are
// dropped: at 4 frames a second it holds minutes of the fastest
// training's epochs.
const liveQueue = 4096

// Live is the sink that feeds the viewer from a trainer's events. It
// never makes the trainer wait: events go into a queue the viewer drains
// (Update), and when the queue is full they are dropped and counted; the
// latest step is kept aside, as steps come too often to queue. After
// Close (the window closed) every event is ignored. Checkpoints are not
// for the viewer and are ignored.
type Live struct {
	events  chan noether.Event
	step    atomic.Pointer[noether.StepEvent]
	closed  atomic.Bool
	dropped atomic.Int64
	run     Run // the viewer's, changed only by Update
}

// NewLive is a Live sink for a run of task written into dir.
func NewLive(task, dir string) *Live {
	return &Live{events: make(chan noether.Event, liveQueue), run: Run{Task: task, Dir: dir}}
}

// Handle implements noether.Sink; it never blocks and never fails.
func (l *Live) Handle(e noether.Event) error {
	if l.closed.Load() {
		return nil
	}
	switch ev := e.(type) {
	case noether.StepEvent:
		l.step.Store(&ev)
		return nil
	case noether.CheckpointEvent:
		return nil
	}
	select {
	case l.events <- e:
	default:
		l.dropped.Add(1)
	}
	return nil
}

// Close makes the sink ignore every later event.
func (l *Live) Close() { l.closed.Store(true) }

// Dropped is the number of events dropped because the viewer fell behind.
func (l *Live) Dropped() int64 { return l.dropped.Load() }

// Run is the run as the events so far describe it. Only the goroutine
// that calls Update may read it.
func (l *Live) Run() *Run { return &l.run }

// Update applies the events that arrived since the last call and reports
// whether the run changed.
func (l *Live) Update() bool {
	r := &l.run
	changed := false
	for {
		select {
		case e := <-l.events:
			l.apply(e)
			changed = true
			continue
		default:
		}
		break
	}
	if s := l.step.Load(); s != nil && s.Phase == r.Now.Phase && s.Step != r.Now.Step {
		r.Now.Step = s.Step
		changed = true
	}
	if n := l.dropped.Load(); n > 0 {
		r.Note = fmt.Sprintf("%d training events dropped: the viewer fell behind (training is not affected)", n)
	}
	return changed
}

// apply records one event in the run.
func (l *Live) apply(e noether.Event) {
	r := &l.run
	phase := func(name string) *Phase {
		i := slices.IndexFunc(r.Phases, func(p Phase) bool { return p.Name == name })
		if i < 0 {
			r.Phases = append(r.Phases, Phase{Name: name})
			i = len(r.Phases) - 1
		}
		return &r.Phases[i]
	}
	switch ev := e.(type) {
	case noether.StartEvent:
		p := phase(ev.Phase)
		p.Epochs, p.State = ev.Epochs, "running"
		r.Now = Progress{Phase: ev.Phase, Epoch: ev.Resumed, Epochs: ev.Epochs, Loss: math.NaN()}
	case noether.EpochEvent:
		p := phase(ev.Phase)
		// Epochs before a resumed phase's first are not known here.
		for len(p.Losses) < ev.Epoch-1 {
			p.Losses = append(p.Losses, math.NaN())
		}
		p.Losses = append(p.Losses[:ev.Epoch-1], ev.Loss)
		p.Epoch = ev.Epoch
		r.Now = Progress{Phase: ev.Phase, Epoch: ev.Epoch, Epochs: p.Epochs, Step: r.Now.Step, Loss: ev.Loss}
	case noether.RolloutEvent:
		o := Rollout{Method: ev.Phase, Shape: ev.StateShape, Truth: ev.Truth, Pred: ev.Pred, StepRMSE: ev.StepRMSE}
		if i := slices.IndexFunc(r.Rollouts, func(x Rollout) bool { return x.Method == o.Method }); i >= 0 {
			r.Rollouts[i] = o
		} else {
			r.Rollouts = append(r.Rollouts, o)
		}
	case noether.DoneEvent:
		phase(ev.Phase).State = "done"
		if r.Now.Phase == ev.Phase {
			r.Now.Done = true
		}
	case noether.StopEvent:
		phase(ev.Phase).State = "stopped"
	}
}
