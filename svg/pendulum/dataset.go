package pendulum

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/svg/clips"
)

// Split names a part of the data (clips.Split). Each episode's random
// numbers depend only on the seed, its split and its index (see
// Config.Seed).
type Split = clips.Split

// The two splits.
const (
	Train = clips.Train
	Test  = clips.Test
)

// Config sizes a Dataset. Every field must be set; DefaultConfig gives the
// paper's.
type Config struct {
	// Seed fixes every episode: the same seed gives byte-identical states,
	// actions and frames. Episode i of a split draws from its own stream,
	// so changing the number of training episodes leaves the test episodes
	// as they were.
	Seed uint64
	// Height and Width of the frames in pixels.
	Height, Width int
	// TrainEpisodes and TestEpisodes count the episodes of each split;
	// EpisodeLen is the frames per episode.
	TrainEpisodes, TestEpisodes, EpisodeLen int
	// History frames are given and Horizon frames predicted: a window is
	// History+Horizon consecutive frames.
	History, Horizon int
	// Stride is the step between the first frames of consecutive windows
	// of an episode.
	Stride int
	Policy Policy
}

// DefaultConfig is the paper's setting: 64x64 frames, 5 training and 195
// test episodes of 200 frames, windows of 4 history and 26 predicted
// frames starting at every frame, seed 1.
func DefaultConfig() Config {
	return Config{
		Seed:   1,
		Height: 64, Width: 64,
		TrainEpisodes: 5, TestEpisodes: 195, EpisodeLen: 200,
		History: 4, Horizon: 26,
		Stride: 1,
		Policy: DefaultPolicy(),
	}
}

// Window is the number of frames in a window, History + Horizon.
func (c Config) Window() int { return c.History + c.Horizon }

func (c Config) validate() error {
	switch {
	case c.Height < 1 || c.Width < 1:
		return fmt.Errorf("pendulum: frame size %dx%d: want both >= 1", c.Height, c.Width)
	case c.TrainEpisodes < 1 || c.TestEpisodes < 1:
		return fmt.Errorf("pendulum: %d training and %d test episodes: want at least 1 of each", c.TrainEpisodes, c.TestEpisodes)
	case c.EpisodeLen < 2:
		return fmt.Errorf("pendulum: episode length %d frames: want >= 2", c.EpisodeLen)
	case c.History < 1 || c.Horizon < 1:
		return fmt.Errorf("pendulum: history %d, horizon %d frames: want both >= 1", c.History, c.Horizon)
	case c.Window() > c.EpisodeLen:
		return fmt.Errorf("pendulum: history %d + horizon %d = %d frames is longer than an episode (%d frames)",
			c.History, c.Horizon, c.Window(), c.EpisodeLen)
	case c.Stride < 1:
		return fmt.Errorf("pendulum: window stride %d: want >= 1", c.Stride)
	}
	if err := c.Policy.validate(); err != nil {
		return err
	}
	return nil
}

// Episode is one recorded episode.
type Episode struct {
	// States[t] is the state frame t shows.
	States []State
	// Actions[t] is the torque applied in States[t], which brings the
	// pendulum to States[t+1] (the last one's result is not recorded).
	Actions []float64
	// Lead is the torque of the step before frame 0. An episode starts
	// one step after Gym's reset, so that every frame, the first included,
	// shows as its arrow the torque that brought the pendulum there, as
	// Gym draws its last action.
	Lead float64
}

// Scene is what frame t shows: States[t] with the arrow of the torque
// applied in the frame before.
func (e *Episode) Scene(t int) Scene {
	u := e.Lead
	if t > 0 {
		u = e.Actions[t-1]
	}
	return Scene{Theta: e.States[t].Th, Torque: u}
}

// record runs one episode: Gym's reset (th ~ U[-pi, pi), thdot ~
// U[-1, 1)), one lead step, then n frames under the policy.
func record(p Policy, r *clips.RNG, n int) Episode {
	s := State{Th: r.Uniform(-math.Pi, math.Pi), ThDot: r.Uniform(-1, 1)}
	c := controller{p: p, r: r}
	e := Episode{States: make([]State, n), Actions: make([]float64, n)}
	e.Lead = c.act(s)
	s = Step(s, e.Lead)
	for t := 0; t < n; t++ {
		e.States[t] = s
		e.Actions[t] = c.act(s)
		s = Step(s, e.Actions[t])
	}
	return e
}

// Dataset is the pixel pendulum: episodes recorded when it is made (a few
// numbers per frame), frames rendered when a batch asks for them.
type Dataset struct {
	cfg      Config
	episodes [2][]Episode
}

// New records the episodes of cfg.
func New(cfg Config) (*Dataset, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d := &Dataset{cfg: cfg}
	for split, n := range [2]int{Train: cfg.TrainEpisodes, Test: cfg.TestEpisodes} {
		d.episodes[split] = make([]Episode, n)
		for i := range d.episodes[split] {
			d.episodes[split][i] = record(cfg.Policy, clips.NewRNG(cfg.Seed, uint64(split)<<32|uint64(i)), cfg.EpisodeLen)
		}
	}
	return d, nil
}

// Config returns the configuration the dataset was made with.
func (d *Dataset) Config() Config { return d.cfg }

// Episodes returns the episodes of a split; they are shared, not copied.
func (d *Dataset) Episodes(s Split) []Episode {
	if s != Train && s != Test {
		return nil
	}
	return d.episodes[s]
}

// WindowsPerEpisode is how many windows one episode gives.
func (d *Dataset) WindowsPerEpisode() int {
	return (d.cfg.EpisodeLen-d.cfg.Window())/d.cfg.Stride + 1
}

// NumWindows is the number of windows of a split; they are numbered
// episode by episode, then by first frame.
func (d *Dataset) NumWindows(s Split) int {
	return len(d.Episodes(s)) * d.WindowsPerEpisode()
}

// WindowAt returns the episode and first frame of window i of a split.
func (d *Dataset) WindowAt(s Split, i int) (episode, start int, err error) {
	if s != Train && s != Test {
		return 0, 0, fmt.Errorf("pendulum: WindowAt: unknown split %v", s)
	}
	if n := d.NumWindows(s); i < 0 || i >= n {
		return 0, 0, fmt.Errorf("pendulum: WindowAt: window %d of the %s split: want 0 <= i < %d", i, s, n)
	}
	per := d.WindowsPerEpisode()
	return i / per, i % per * d.cfg.Stride, nil
}

// Batch is B windows of T = History + Horizon frames, time-major as the
// models take them.
type Batch struct {
	T, B, H, W int
	// Frames is [T, B, 3, H, W].
	Frames []float32
	// Actions is [T, B, 1]: Actions[t] is the torque applied in frame t,
	// which brings the pendulum to frame t+1 (and is drawn there). A model
	// predicting frame t+1 from frame t takes Actions[t]: the History-1th
	// to the T-2th give the Horizon predicted frames.
	Actions []float32
}

// Batch returns the windows idx of a split, in that order (repeats
// allowed), rendering their frames.
func (d *Dataset) Batch(s Split, idx []int) (*Batch, error) {
	if s != Train && s != Test {
		return nil, fmt.Errorf("pendulum: Batch: unknown split %v", s)
	}
	n := d.NumWindows(s)
	switch {
	case len(idx) == 0:
		return nil, fmt.Errorf("pendulum: Batch: no windows asked for")
	case len(idx) > n:
		return nil, fmt.Errorf("pendulum: Batch: a batch of %d windows is larger than the %s split's %d", len(idx), s, n)
	}
	T, B, H, W := d.cfg.Window(), len(idx), d.cfg.Height, d.cfg.Width
	frame := Channels * H * W
	b := &Batch{T: T, B: B, H: H, W: W, Frames: make([]float32, T*B*frame), Actions: make([]float32, T*B)}
	for j, i := range idx {
		ep, start, err := d.WindowAt(s, i)
		if err != nil {
			return nil, fmt.Errorf("pendulum: Batch: entry %d: %w", j, err)
		}
		e := &d.episodes[s][ep]
		for t := 0; t < T; t++ {
			off := (t*B + j) * frame
			draw(b.Frames[off:off+frame], e.Scene(start+t), H, W)
			b.Actions[t*B+j] = float32(e.Actions[start+t])
		}
	}
	return b, nil
}
