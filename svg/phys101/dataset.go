package phys101

import (
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"

	"github.com/noether-vk/noether-vk/svg/clips"
)

// Config says where the data is and how to prepare it. DefaultConfig gives
// the reference's settings; Root must be set.
type Config struct {
	// Root is the folder Physics 101 was extracted into (holding
	// phys101/scenarios/ramp), or the ramp folder itself.
	Root string
	// CacheDir holds the decoded clips; DefaultCacheDir when empty.
	CacheDir string
	// OrderFile, when set, lists the clips in the order to split them
	// (the reference's data/phys101.py serves as it is); empty: our
	// fixed shuffle (see the package documentation).
	OrderFile string
	// Size is the frames' side after resizing, in pixels.
	Size int
	// Crop is the side of the centre crop, in source pixels; 0 crops the
	// shorter side.
	Crop int
	// FrameStep keeps every FrameStep-th frame; Frames frames are kept,
	// the middle ones.
	FrameStep, Frames int
	// TrainClips and TestClips: the first TrainClips usable clips (in the
	// order) train, the next TestClips test. Both 0: every usable clip,
	// split in the reference's proportion 311:78.
	TrainClips, TestClips int
	// Seed draws each clip's horizontal flip.
	Seed uint64
}

// DefaultConfig is the reference's preparation of Physics 101's 20-degree
// ramp clips: every 2nd frame, the middle 22, a centre crop of 1080
// pixels, 128x128, 311 training and 78 test clips.
func DefaultConfig(root string) Config {
	return Config{Root: root, Size: 128, Crop: 1080, FrameStep: 2, Frames: 22, TrainClips: 311, TestClips: 78, Seed: 1}
}

// The reference's split sizes, for the proportional split.
const (
	referenceTrain = 311
	referenceTest  = 78
)

// DefaultCacheDir is the cache under the user's cache folder
// ($XDG_CACHE_HOME or ~/.cache on Linux): noether-vk/phys101.
func DefaultCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("phys101: no cache folder (%v): set Config.CacheDir", err)
	}
	return filepath.Join(dir, "noether-vk", "phys101"), nil
}

func (c Config) validate() error {
	switch {
	case c.Root == "":
		return fmt.Errorf("phys101: no data folder given: the folder Physics 101 was extracted into")
	case c.Size < 1 || c.Crop < 0:
		return fmt.Errorf("phys101: size %d, crop %d: want size >= 1 and crop >= 0", c.Size, c.Crop)
	case c.FrameStep < 1 || c.Frames < 1:
		return fmt.Errorf("phys101: frame step %d, %d frames: want both >= 1", c.FrameStep, c.Frames)
	case c.TrainClips < 0 || c.TestClips < 0 || (c.TrainClips == 0) != (c.TestClips == 0):
		return fmt.Errorf("phys101: %d training and %d test clips: want both >= 1, or both 0 for the reference's proportion", c.TrainClips, c.TestClips)
	}
	return nil
}

// Stats count what New found and did.
type Stats struct {
	// Clips is the number of 20-degree clips in the data folder;
	// Unlisted of them are not in the order file (and not used).
	Clips, Unlisted int
	// Decoded clips went through ffmpeg; Cached came from the cache.
	Decoded, Cached int
	// Short clips have fewer than Frames frames after subsampling: they
	// are skipped, as the reference skips them. ShortClips names them.
	Short      int
	ShortClips []string
	// Used is the number of clips in the two splits.
	Used int
}

// Dataset is the Physics 101 ramp clips, decoded, preprocessed and held in
// memory as 8-bit values (311 + 78 clips at 128 pixels: 420 MB).
type Dataset struct {
	cfg   Config
	names [2][]string
	data  [2][][][]byte // [split][clip][frame] -> [3, Size, Size]
	stats Stats
}

var _ clips.Source = (*Dataset)(nil)

// New finds the clips, puts them in order, loads each (from the cache, or
// decoding it with ffmpeg and caching it) until both splits are full,
// skipping the short ones, and flips each clip or not.
func New(cfg Config) (*Dataset, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.CacheDir == "" {
		dir, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		cfg.CacheDir = dir
	}
	ramp, err := findRamp(cfg.Root)
	if err != nil {
		return nil, err
	}
	all, err := listClips(ramp)
	if err != nil {
		return nil, err
	}
	d := &Dataset{cfg: cfg}
	d.stats.Clips = len(all)
	order := shuffled(all)
	if cfg.OrderFile != "" {
		if order, d.stats.Unlisted, err = readOrder(cfg.OrderFile, all); err != nil {
			return nil, err
		}
	}
	want := cfg.TrainClips + cfg.TestClips
	var names []string
	var data [][][]byte
	for _, rel := range order {
		if want > 0 && len(names) == want {
			break
		}
		e, err := d.load(ramp, rel)
		if err != nil {
			return nil, err
		}
		if e.subsampled < cfg.Frames {
			d.stats.Short++
			d.stats.ShortClips = append(d.stats.ShortClips, rel)
			continue
		}
		names, data = append(names, rel), append(data, e.frames)
	}
	train, test := cfg.TrainClips, cfg.TestClips
	if want == 0 {
		test = int(math.Round(float64(len(names)) * referenceTest / (referenceTrain + referenceTest)))
		test = max(test, 1)
		train = len(names) - test
	}
	if train < 1 || len(names) < train+test {
		return nil, fmt.Errorf("phys101: %d usable clips (of %d, %d too short after taking every %d%s frame) for %d training and %d test clips: give fewer clips (Config.TrainClips and TestClips 0 split what there is)",
			len(names), len(order), d.stats.Short, cfg.FrameStep, ordinal(cfg.FrameStep), train, test)
	}
	d.stats.Used = train + test
	d.names = [2][]string{clips.Train: names[:train], clips.Test: names[train : train+test]}
	d.data = [2][][][]byte{clips.Train: data[:train], clips.Test: data[train : train+test]}
	for s := range d.data {
		for i, rel := range d.names[s] {
			if flipped(cfg.Seed, rel) {
				d.data[s][i] = flip(d.data[s][i], cfg.Size)
			}
		}
	}
	return d, nil
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "st"
	case 2:
		return "nd"
	case 3:
		return "rd"
	}
	return "th"
}

// load returns a clip's subsampled length and its middle Frames frames,
// from the cache when it holds them for this file as it is now.
func (d *Dataset) load(ramp, rel string) (*entry, error) {
	c := d.cfg
	k, err := sourceKey(ramp, rel, c.FrameStep, c.Crop, c.Size, c.Frames)
	if err != nil {
		return nil, err
	}
	if e, ok := loadCached(c.CacheDir, k); ok {
		d.stats.Cached++
		return e, nil
	}
	dec, err := decode(filepath.Join(ramp, rel), c.FrameStep, c.Crop, c.Size)
	if err != nil {
		return nil, err
	}
	d.stats.Decoded++
	n := len(dec.frames)
	e := &entry{subsampled: n}
	if n >= c.Frames {
		// The reference's middle: vid[(n - 22) // 2 : (n + 22) // 2].
		start := (n - c.Frames) / 2
		e.frames = dec.frames[start : start+c.Frames]
	}
	if err := store(c.CacheDir, k, e); err != nil {
		return nil, err
	}
	return e, nil
}

// flipped draws a clip's flip, p = 1/2, from a stream keyed by the seed
// and the clip's path: fixed per clip, whatever the order or the split.
func flipped(seed uint64, rel string) bool {
	h := fnv.New64a()
	h.Write([]byte(rel))
	return clips.NewRNG(seed, h.Sum64()).Uniform(0, 1) < 0.5
}

// flip mirrors every frame of a clip left to right.
func flip(frames [][]byte, size int) [][]byte {
	out := make([][]byte, len(frames))
	for t, f := range frames {
		g := make([]byte, len(f))
		for row := range 3 * size {
			for j := range size {
				g[row*size+j] = f[row*size+size-1-j]
			}
		}
		out[t] = g
	}
	return out
}

// Config returns the configuration the dataset was made with (CacheDir
// filled in).
func (d *Dataset) Config() Config { return d.cfg }

// Stats returns what New found and did.
func (d *Dataset) Stats() Stats { return d.stats }

// Names returns the clips of a split, as paths relative to the ramp
// folder, in index order.
func (d *Dataset) Names(s clips.Split) []string {
	if !s.Valid() {
		return nil
	}
	return d.names[s]
}

// Flipped says whether clip i of a split is mirrored.
func (d *Dataset) Flipped(s clips.Split, i int) bool { return flipped(d.cfg.Seed, d.names[s][i]) }

// Len implements clips.Source.
func (d *Dataset) Len(s clips.Split) int { return len(d.Names(s)) }

// Frames implements clips.Source.
func (d *Dataset) Frames() int { return d.cfg.Frames }

// Size implements clips.Source.
func (d *Dataset) Size() (h, w int) { return d.cfg.Size, d.cfg.Size }

// Batch implements clips.Source: clips by index, Frames [T, B, 3, S, S],
// each value k/255 for its 8-bit value k, as the reference divides by 255.
func (d *Dataset) Batch(s clips.Split, idx []int) (*clips.Batch, error) {
	if err := clips.CheckIndices("phys101: Batch", s, idx, d.Len(s)); err != nil {
		return nil, err
	}
	T, B, S := d.cfg.Frames, len(idx), d.cfg.Size
	b := &clips.Batch{T: T, B: B, H: S, W: S, Frames: make([]float32, T*B*clips.Channels*S*S)}
	for j, i := range idx {
		for t, f := range d.data[s][i] {
			dst := b.Frame(t, j)
			for k, v := range f {
				dst[k] = float32(v) / 255
			}
		}
	}
	return b, nil
}
