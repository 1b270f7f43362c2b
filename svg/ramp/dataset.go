package ramp

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/svg/clips"
)

// Config sizes a Dataset. Every field must be set; DefaultConfig gives
// Physics 101's split.
type Config struct {
	// Seed fixes everything: the set's textures, the catalogue, every
	// trial. The same seed gives byte-identical frames.
	Seed uint64
	// Height and Width of the frames in pixels.
	Height, Width int
	// TrainSequences and TestSequences count the clips of each split.
	TrainSequences, TestSequences int
	// History frames are given and Horizon frames predicted: a clip is
	// History+Horizon frames, FrameInterval apart.
	History, Horizon int
	// Objects is the catalogue's size. NovelTestObjects of them appear
	// only in the test split; the others are the training objects, every
	// one in at least one training clip. The test split shows TestObjects
	// distinct objects: the novel ones and TestObjects-NovelTestObjects
	// training objects.
	Objects, TestObjects, NovelTestObjects int
}

// DefaultConfig is Physics 101's ramp split as the reference uses it: 311
// training and 78 test clips of 22 frames (2 given, 20 predicted), 64x64;
// 44 objects in the test clips, 42 of which appear in training (the
// reference's counts), from a catalogue of 60.
func DefaultConfig() Config {
	return Config{
		Seed:   1,
		Height: 64, Width: 64,
		TrainSequences: 311, TestSequences: 78,
		History: 2, Horizon: 20,
		Objects: 60, TestObjects: 44, NovelTestObjects: 2,
	}
}

// Frames is the number of frames per clip, History + Horizon.
func (c Config) Frames() int { return c.History + c.Horizon }

// trainObjects is the number of objects seen in training.
func (c Config) trainObjects() int { return c.Objects - c.NovelTestObjects }

func (c Config) validate() error {
	switch {
	case c.Height < 8 || c.Width < 8:
		return fmt.Errorf("ramp: frame size %dx%d: want both >= 8", c.Height, c.Width)
	case c.TrainSequences < 1 || c.TestSequences < 1:
		return fmt.Errorf("ramp: %d training and %d test clips: want at least 1 of each", c.TrainSequences, c.TestSequences)
	case c.History < 1 || c.Horizon < 1:
		return fmt.Errorf("ramp: history %d, horizon %d frames: want both >= 1", c.History, c.Horizon)
	case c.NovelTestObjects < 0 || c.trainObjects() < 1:
		return fmt.Errorf("ramp: %d objects, %d of them only in the test split: want at least one training object", c.Objects, c.NovelTestObjects)
	case c.trainObjects() > c.TrainSequences:
		return fmt.Errorf("ramp: %d training objects for %d training clips: every training object needs a clip (fewer objects, or more clips)", c.trainObjects(), c.TrainSequences)
	case c.TestObjects < c.NovelTestObjects || c.TestObjects-c.NovelTestObjects > c.trainObjects():
		return fmt.Errorf("ramp: %d test objects with %d novel ones, from %d training objects: want novel <= test objects <= novel + training objects",
			c.TestObjects, c.NovelTestObjects, c.trainObjects())
	case c.TestObjects > c.TestSequences:
		return fmt.Errorf("ramp: %d test objects in %d test clips: want at most one object per clip", c.TestObjects, c.TestSequences)
	}
	return nil
}

// Sequence is one clip: a catalogue object released on the ramp, the
// target it may hit, and the time its first frame is taken.
type Sequence struct {
	Object Object
	Target Target
	Trial  Trial
	Motion *Motion
	// Start is the time of frame 0 after the release, in seconds; frame
	// t is at Start + t*FrameInterval.
	Start float64
}

// Time is the time of frame t after the release.
func (q *Sequence) Time(t int) float64 { return q.Start + float64(t)*FrameInterval }

// Scene is what frame t shows.
func (q *Sequence) Scene(t int) Scene {
	s1, s2 := q.Motion.At(q.Time(t))
	return Scene{
		Object: q.Object.Look, Target: q.Target.Look,
		ObjectPose: PoseAt(s1, q.Object.Length), TargetPose: PoseAt(s2, q.Target.Length),
	}
}

// The random streams, keyed so that no part of the data changes with
// another's size.
const (
	streamCatalogue = 1 << 32 * (iota + 1)
	streamTrainSequence
	streamTestSequence
	streamAssign
)

// newSequence draws a trial of object o: the target, the release point,
// where the target rests and when the clip starts.
func newSequence(o Object, r *clips.RNG) (Sequence, error) {
	tg := Targets[r.Intn(len(Targets))]
	// Released with its front at least 8 cm up the ramp and its back in
	// view; the target 0.5 to 4 cm beyond the least distance.
	lo := 0.08 + o.Length/2
	hi := math.Min(RampLength, (FootX-ViewLeft-0.01)/math.Cos(Angle)) - o.Length/2
	tr := Trial{
		Object:   o.Body,
		Target:   tg.Body,
		S0:       -r.Uniform(lo, hi),
		TargetAt: o.Length + tg.Length/2 + r.Uniform(0.005, 0.04),
	}
	m, err := Simulate(tr)
	if err != nil {
		return Sequence{}, err
	}
	return Sequence{Object: o, Target: tg, Trial: tr, Motion: m, Start: r.Uniform(0, 0.4)}, nil
}

// Dataset is the built-in ramp scenes: the catalogue and every clip's
// trial worked out when it is made, the set drawn once, frames rendered
// when a batch asks for them.
type Dataset struct {
	cfg        Config
	catalogue  []Object
	sequences  [2][]Sequence
	background []float32
}

var _ clips.Source = (*Dataset)(nil)

// New draws the catalogue and the clips of cfg and simulates their trials.
func New(cfg Config) (*Dataset, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d := &Dataset{cfg: cfg, catalogue: make([]Object, cfg.Objects)}
	for id := range d.catalogue {
		d.catalogue[id] = newObject(id, clips.NewRNG(cfg.Seed, streamCatalogue+uint64(id)))
	}
	train, test := d.assign()
	for split, objs := range [2][]int{clips.Train: train, clips.Test: test} {
		stream := uint64(streamTrainSequence)
		if clips.Split(split) == clips.Test {
			stream = streamTestSequence
		}
		d.sequences[split] = make([]Sequence, len(objs))
		for i, id := range objs {
			q, err := newSequence(d.catalogue[id], clips.NewRNG(cfg.Seed, stream+uint64(i)))
			if err != nil {
				return nil, fmt.Errorf("ramp: %s clip %d: %w", clips.Split(split), i, err)
			}
			d.sequences[split][i] = q
		}
	}
	d.background = Background(cfg.Seed, cfg.Height, cfg.Width)
	return d, nil
}

// assign gives every clip its catalogue object. Training clip i shows the
// training objects in a shuffled order, cycling, so each appears
// TrainSequences/trainObjects times (rounded either way). The test split
// cycles through TestObjects objects: NovelTestObjects novel ones (the
// catalogue's last) and a shuffled choice of training objects.
func (d *Dataset) assign() (train, test []int) {
	c := d.cfg
	r := clips.NewRNG(c.Seed, streamAssign)
	order := r.Perm(c.trainObjects())
	train = make([]int, c.TrainSequences)
	for i := range train {
		train[i] = order[i%len(order)]
	}
	objs := append([]int(nil), r.Perm(c.trainObjects())[:c.TestObjects-c.NovelTestObjects]...)
	for k := range c.NovelTestObjects {
		objs = append(objs, c.trainObjects()+k)
	}
	shuffled := r.Perm(len(objs))
	test = make([]int, c.TestSequences)
	for j := range test {
		test[j] = objs[shuffled[j%len(objs)]]
	}
	return train, test
}

// Config returns the configuration the dataset was made with.
func (d *Dataset) Config() Config { return d.cfg }

// Catalogue returns every object; it is shared, not copied.
func (d *Dataset) Catalogue() []Object { return d.catalogue }

// Sequences returns the clips of a split; they are shared, not copied.
func (d *Dataset) Sequences(s clips.Split) []Sequence {
	if !s.Valid() {
		return nil
	}
	return d.sequences[s]
}

// Len implements clips.Source.
func (d *Dataset) Len(s clips.Split) int { return len(d.Sequences(s)) }

// Frames implements clips.Source.
func (d *Dataset) Frames() int { return d.cfg.Frames() }

// Size implements clips.Source.
func (d *Dataset) Size() (h, w int) { return d.cfg.Height, d.cfg.Width }

// Batch implements clips.Source: the clips idx of a split rendered,
// Frames [T, B, 3, H, W].
func (d *Dataset) Batch(s clips.Split, idx []int) (*clips.Batch, error) {
	if err := clips.CheckIndices("ramp: Batch", s, idx, d.Len(s)); err != nil {
		return nil, err
	}
	T, B, H, W := d.cfg.Frames(), len(idx), d.cfg.Height, d.cfg.Width
	b := &clips.Batch{T: T, B: B, H: H, W: W, Frames: make([]float32, T*B*clips.Channels*H*W)}
	for j, i := range idx {
		q := &d.sequences[s][i]
		for t := range T {
			f := b.Frame(t, j)
			copy(f, d.background)
			draw(f, q.Scene(t), H, W)
		}
	}
	return b, nil
}
