package tune

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/kernels"
)

// Version is the cache file's format. A file of another version is
// ignored (with a warning) and replaced by the next Merge. Version 2:
// variants say how they read their operands (texels), and lavapipe's
// default reads texels, so choices made against the old default are
// stale.
const Version = 2

// File is the cache file: the choices of every device tuned on this
// machine.
type File struct {
	Version int       `json:"version"`
	Devices []*Device `json:"devices"`
}

// Device is one device's choices.
type Device struct {
	Name   string `json:"device"`
	Driver string `json:"driver"`
	// MatMul maps kernels.MatMulParams.TuneKey to the product's choice.
	MatMul map[string]Choice `json:"matmul"`
	// Conv maps kernels.ConvPrim.TuneKey to the conv pass's choice.
	Conv map[string]ConvChoice `json:"conv,omitempty"`
}

// Choice is the variant kept for one product, with the timings that chose
// it (GPU milliseconds, medians of the final interleaved runs).
type Choice struct {
	Shape     string                `json:"shape"`
	Variant   kernels.MatMulVariant `json:"variant"`
	Default   bool                  `json:"default"`
	DefaultMs float64               `json:"default_ms"`
	TunedMs   float64               `json:"tuned_ms"`
}

// DefaultPath is where the cache lives: tuning.json in noether-vk's
// folder of the user's cache directory (os.UserCacheDir: XDG_CACHE_HOME
// or ~/.cache on Linux).
func DefaultPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("tune: no user cache directory (%w); set XDG_CACHE_HOME or pass the cache file", err)
	}
	return filepath.Join(dir, "noether-vk", "tuning.json"), nil
}

// DriverKey is how the cache names a device's driver: its name, version
// and description (lavapipe: "llvmpipe 0.0.1, Mesa 22.3.6 (LLVM 15.0.6)"),
// so a driver update invalidates the choices.
func DriverKey(info gpu.Info) string {
	return fmt.Sprintf("%s %s, %s", info.DriverName, info.DriverVersion, info.DriverInfo)
}

// Read reads the cache file at path. A missing file is an empty cache
// (fs.ErrNotExist is not returned); a file that is not valid JSON, or of
// another Version, is an error that says so.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{Version: Version}, nil
	}
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("corrupt (%v)", err)
	}
	if f.Version != Version {
		return nil, fmt.Errorf("stale: format version %d, this build reads version %d", f.Version, Version)
	}
	return &f, nil
}

// device is the entry for info (nil: none).
func (f *File) device(info gpu.Info) *Device {
	for _, d := range f.Devices {
		if d.Name == info.Name && d.Driver == DriverKey(info) {
			return d
		}
	}
	return nil
}

// Load returns the tuning the cache at path holds for the device info:
// nil when it holds none. A cache that cannot be used (unreadable,
// corrupt, of another version) gives nil and warning, one line naming the
// file and what to do; the kernels then run their defaults.
func Load(path string, info gpu.Info) (t *kernels.Tuning, warning string) {
	f, err := Read(path)
	if err != nil {
		return nil, fmt.Sprintf("noether-vk: ignoring the tuning cache %s: %v; the kernels run their defaults (noether-vk tune rewrites it)", path, err)
	}
	d := f.device(info)
	if d == nil || len(d.MatMul)+len(d.Conv) == 0 {
		return nil, ""
	}
	t = &kernels.Tuning{MatMul: map[string]kernels.MatMulVariant{}, Conv: map[string]kernels.ConvPath{}}
	for key, c := range d.MatMul {
		if !c.Default {
			t.MatMul[key] = c.Variant
		}
	}
	for key, c := range d.Conv {
		if !c.Default {
			t.Conv[key] = c.Form
		}
	}
	return t, ""
}

// Merge merges choices of products and conv passes (by TuneKey) into the
// cache at path for the device info, keeping the other devices' entries
// and this device's other shapes, and returns the file's new content; a
// corrupt or stale file is replaced. The caller writes it, atomically
// (graph/atomicfile, which this package, below graph, does not import).
func Merge(path string, info gpu.Info, choices map[string]Choice, convs map[string]ConvChoice) ([]byte, error) {
	f, err := Read(path)
	if err != nil {
		f = &File{Version: Version}
	}
	d := f.device(info)
	if d == nil {
		d = &Device{Name: info.Name, Driver: DriverKey(info)}
		f.Devices = append(f.Devices, d)
	}
	if d.MatMul == nil {
		d.MatMul = map[string]Choice{}
	}
	for k, c := range choices {
		d.MatMul[k] = c
	}
	if len(convs) > 0 && d.Conv == nil {
		d.Conv = map[string]ConvChoice{}
	}
	for k, c := range convs {
		d.Conv[k] = c
	}
	sort.Slice(f.Devices, func(i, j int) bool {
		a, b := f.Devices[i], f.Devices[j]
		return a.Name < b.Name || a.Name == b.Name && a.Driver < b.Driver
	})
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
