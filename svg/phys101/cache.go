package phys101

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/noether-vk/noether-vk/graph/safetensors"
)

// cacheVersion changes whenever the preprocessing does, so that files of an
// earlier one are decoded again rather than trusted.
const cacheVersion = "1"

// framesTensor is the cache files' tensor: the clip's Frames frames, [T,
// 3, Size, Size], k/255 for the 8-bit value k, before the flip.
const framesTensor = "frames"

// entry is one clip as the loader keeps it: the subsampled length and,
// when long enough, its Frames frames (uint8, [T][3*Size*Size]).
type entry struct {
	subsampled int
	frames     [][]byte
}

// key is what a cache file must match: the source file as it is now (its
// size and modification time: a changed or replaced video is decoded
// again) and every setting of the preprocessing.
type key struct {
	rel                       string
	size, mtime               int64
	step, crop, out, frameCnt int
}

func (k key) meta() map[string]string {
	return map[string]string{
		"version":      cacheVersion,
		"source":       k.rel,
		"source_size":  strconv.FormatInt(k.size, 10),
		"source_mtime": strconv.FormatInt(k.mtime, 10),
		"frame_step":   strconv.Itoa(k.step),
		"crop":         strconv.Itoa(k.crop),
		"size":         strconv.Itoa(k.out),
		"frames":       strconv.Itoa(k.frameCnt),
	}
}

// file is the cache file of a clip: named by a hash of its path and the
// preprocessing, so caches of several sizes live side by side.
func (k key) file(dir string) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%d|%d|%d|%s", k.rel, k.step, k.crop, k.out, k.frameCnt, cacheVersion)))
	return filepath.Join(dir, hex.EncodeToString(h[:12])+".safetensors")
}

// loadCached returns the clip from the cache when the file is there,
// intact (its SHA-256 checks) and made from this source with these
// settings; ok is false otherwise (decode it again).
func loadCached(dir string, k key) (e *entry, ok bool) {
	f, err := safetensors.ReadFile(k.file(dir))
	if err != nil || !f.Verified {
		return nil, false
	}
	for name, v := range k.meta() {
		if f.Meta[name] != v {
			return nil, false
		}
	}
	n, err := strconv.Atoi(f.Meta["subsampled"])
	if err != nil {
		return nil, false
	}
	e = &entry{subsampled: n}
	t, has := f.Tensors[framesTensor]
	if n < k.frameCnt {
		return e, !has
	}
	plane := 3 * k.out * k.out
	if !has || len(t.Data) != k.frameCnt*plane {
		return nil, false
	}
	for i := range k.frameCnt {
		fr := make([]byte, plane)
		for j, v := range t.Data[i*plane : (i+1)*plane] {
			fr[j] = byte(math.Round(float64(v) * 255))
		}
		e.frames = append(e.frames, fr)
	}
	return e, true
}

// store writes the clip's cache file (atomically, with its checksum).
func store(dir string, k key, e *entry) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("phys101: the cache folder: %w", err)
	}
	meta := k.meta()
	meta["subsampled"] = strconv.Itoa(e.subsampled)
	f := &safetensors.File{Tensors: map[string]safetensors.Tensor{}, Meta: meta}
	if len(e.frames) > 0 {
		plane := 3 * k.out * k.out
		data := make([]float32, 0, len(e.frames)*plane)
		for _, fr := range e.frames {
			for _, b := range fr {
				data = append(data, float32(b)/255)
			}
		}
		f.Tensors[framesTensor] = safetensors.Tensor{Shape: []int{len(e.frames), 3, k.out, k.out}, Data: data}
	}
	if err := safetensors.WriteFile(k.file(dir), f); err != nil {
		return fmt.Errorf("phys101: caching %s: %w", k.rel, err)
	}
	return nil
}

// sourceKey stats the clip's file.
func sourceKey(ramp, rel string, step, crop, out, frames int) (key, error) {
	st, err := os.Stat(filepath.Join(ramp, rel))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return key{}, fmt.Errorf("phys101: %s disappeared while loading", rel)
		}
		return key{}, fmt.Errorf("phys101: %w", err)
	}
	return key{rel: rel, size: st.Size(), mtime: st.ModTime().UnixNano(), step: step, crop: crop, out: out, frameCnt: frames}, nil
}
