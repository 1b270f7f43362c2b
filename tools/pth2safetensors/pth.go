package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"sort"
	"strings"
)

// storage is a PyTorch storage: a flat typed array, read from the file
// after the pickle that refers to it.
type storage struct {
	dtype string // "Float", "Double", "Half", "BFloat16", "Long", ...
	key   string
	numel int64
	data  []byte
}

// elemSize is the bytes per element of each storage type.
var elemSize = map[string]int{
	"Float": 4, "Double": 8, "Half": 2, "BFloat16": 2,
	"Long": 8, "Int": 4, "Short": 2, "Char": 1, "Byte": 1, "Bool": 1,
}

// tensor is a view of a storage.
type tensor struct {
	st     *storage
	offset int64
	size   []int64
	stride []int64
}

// Tensor is a floating-point tensor converted to float32, row-major.
type Tensor struct {
	Shape []int
	Data  []float32
}

// readPth reads a file written by torch.save, in either of its formats,
// and returns its floating-point tensors by name (nested dicts give
// dotted names) and the names of the tensors of other types it skipped.
func readPth(path string) (map[string]Tensor, []string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var root any
	if zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b))); err == nil {
		root, err = readZip(zr)
		if err != nil {
			return nil, nil, fmt.Errorf("%s (zip format): %w", path, err)
		}
	} else if root, err = readLegacy(b); err != nil {
		return nil, nil, fmt.Errorf("%s (legacy format): %w", path, err)
	}
	out := map[string]Tensor{}
	var skipped []string
	if err := collect(root, "", out, &skipped); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("%s holds no floating-point tensor", path)
	}
	sort.Strings(skipped)
	return out, skipped, nil
}

// newUnpickler interprets the calls torch.save's pickles make.
func newUnpickler(r io.Reader, persistent func(pid any) (any, error)) *unpickler {
	return &unpickler{r: bufio.NewReader(r), call: call, persistent: persistent}
}

func call(fn global, args tuple) (any, error) {
	switch fn.module + "." + fn.name {
	case "collections.OrderedDict":
		return newDict(), nil
	case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
		// (storage, storage_offset, size, stride, ...)
		if len(args) < 4 {
			return nil, fmt.Errorf("%s with %d arguments", fn.name, len(args))
		}
		st, ok := args[0].(*storage)
		off, ok2 := args[1].(int64)
		size, err1 := ints(args[2])
		stride, err2 := ints(args[3])
		if !ok || !ok2 || err1 != nil || err2 != nil || len(size) != len(stride) {
			return nil, fmt.Errorf("%s(%v, %v, %v, %v): not a storage, offset, size and stride", fn.name, args[0], args[1], args[2], args[3])
		}
		return &tensor{st: st, offset: off, size: size, stride: stride}, nil
	case "torch._utils._rebuild_parameter":
		if len(args) < 1 {
			return nil, errors.New("_rebuild_parameter without data")
		}
		return args[0], nil
	}
	return &object{class: fn, args: args}, nil
}

func ints(v any) ([]int64, error) {
	t, ok := v.(tuple)
	if !ok {
		return nil, fmt.Errorf("%T is not a tuple", v)
	}
	out := make([]int64, len(t))
	for i, x := range t {
		n, ok := x.(int64)
		if !ok {
			return nil, fmt.Errorf("%T in a size", x)
		}
		out[i] = n
	}
	return out, nil
}

// storageOf interprets a persistent id ('storage', <class torch.XStorage>,
// key, location, numel[, view]) and returns the one storage of each key.
func storageOf(pid any, storages map[string]*storage) (any, error) {
	t, ok := pid.(tuple)
	if !ok || len(t) < 5 || t[0] != "storage" {
		return nil, fmt.Errorf("persistent id %v is not a storage", pid)
	}
	class, ok1 := t[1].(global)
	key, ok2 := t[2].(string)
	numel, ok3 := t[4].(int64)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("persistent id %v is not a storage", pid)
	}
	if len(t) > 5 && t[5] != nil {
		return nil, fmt.Errorf("storage %s is a view of another (torch before 0.4): not supported", key)
	}
	dtype := strings.TrimSuffix(class.name, "Storage")
	if _, ok := elemSize[dtype]; !ok || !strings.HasPrefix(class.module, "torch") {
		return nil, fmt.Errorf("storage %s of class %s.%s: not supported", key, class.module, class.name)
	}
	if st, ok := storages[key]; ok {
		return st, nil
	}
	st := &storage{dtype: dtype, key: key, numel: numel}
	storages[key] = st
	return st, nil
}

// readZip reads torch.save's default format: a zip whose <name>/data.pkl
// refers to storages stored raw as <name>/data/<key>.
func readZip(zr *zip.Reader) (any, error) {
	files := map[string]*zip.File{}
	var pkl *zip.File
	prefix := ""
	for _, f := range zr.File {
		files[f.Name] = f
		if strings.HasSuffix(f.Name, "/data.pkl") || f.Name == "data.pkl" {
			pkl, prefix = f, strings.TrimSuffix(f.Name, "data.pkl")
		}
	}
	if pkl == nil {
		return nil, errors.New("no data.pkl in the archive")
	}
	rc, err := pkl.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	storages := map[string]*storage{}
	u := newUnpickler(rc, func(pid any) (any, error) { return storageOf(pid, storages) })
	root, err := u.load()
	if err != nil {
		return nil, err
	}
	for key, st := range storages {
		f, ok := files[prefix+"data/"+key]
		if !ok {
			return nil, fmt.Errorf("storage %s is not in the archive", key)
		}
		r, err := f.Open()
		if err != nil {
			return nil, err
		}
		st.data, err = io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("storage %s: %w", key, err)
		}
		if want := st.numel * int64(elemSize[st.dtype]); int64(len(st.data)) < want {
			return nil, fmt.Errorf("storage %s holds %d bytes, want %d", key, len(st.data), want)
		}
	}
	return root, nil
}

// legacyMagic is the number torch.save's legacy format pickles first.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

// readLegacy reads torch.save's format before PyTorch 1.6: pickles of the
// magic number, the protocol version (1001) and system information, then
// the object, then the list of storage keys, then each storage in that
// order as an int64 element count and its raw little-endian elements.
func readLegacy(b []byte) (any, error) {
	r := bytes.NewReader(b)
	storages := map[string]*storage{}
	u := newUnpickler(r, func(pid any) (any, error) { return storageOf(pid, storages) })
	magic, err := u.load()
	if err != nil {
		return nil, fmt.Errorf("not a PyTorch file (%v)", err)
	}
	if m, ok := magic.(*big.Int); !ok || m.Cmp(legacyMagic) != 0 {
		return nil, fmt.Errorf("not a PyTorch file (it starts with %v, not torch.save's magic number)", magic)
	}
	version, err := u.load()
	if err != nil || version != int64(1001) {
		return nil, fmt.Errorf("protocol version %v (%v): want 1001", version, err)
	}
	if _, err := u.load(); err != nil { // system information
		return nil, err
	}
	root, err := u.load()
	if err != nil {
		return nil, err
	}
	keys, err := u.load()
	if err != nil {
		return nil, fmt.Errorf("the storage keys: %w", err)
	}
	kl, ok := keys.(*list)
	if !ok {
		return nil, fmt.Errorf("the storage keys are a %T", keys)
	}
	// The pickles were read through a buffer: the storages start where
	// the reader's consumption ends.
	rest := u.r
	for _, k := range kl.items {
		key, ok := k.(string)
		st := storages[key]
		if !ok || st == nil {
			return nil, fmt.Errorf("storage key %v refers to no storage", k)
		}
		var n int64
		if err := binary.Read(rest, binary.LittleEndian, &n); err != nil {
			return nil, fmt.Errorf("storage %s: %w", key, err)
		}
		if n != st.numel {
			return nil, fmt.Errorf("storage %s holds %d elements, its tensors say %d", key, n, st.numel)
		}
		st.data = make([]byte, n*int64(elemSize[st.dtype]))
		if _, err := io.ReadFull(rest, st.data); err != nil {
			return nil, fmt.Errorf("storage %s is cut short: %w", key, err)
		}
	}
	return root, nil
}

// collect walks the loaded object: dicts (nested ones give dotted names)
// down to tensors.
func collect(v any, prefix string, out map[string]Tensor, skipped *[]string) error {
	switch x := v.(type) {
	case *pdict:
		for _, k := range x.keys {
			name, ok := k.(string)
			if !ok {
				name = fmt.Sprint(k)
			}
			if prefix != "" {
				name = prefix + "." + name
			}
			if err := collect(x.vals[k], name, out, skipped); err != nil {
				return err
			}
		}
	case *tensor:
		t, ok, err := x.float32()
		if err != nil {
			return fmt.Errorf("tensor %s: %w", prefix, err)
		}
		if !ok {
			*skipped = append(*skipped, prefix)
			return nil
		}
		out[prefix] = t
	}
	return nil
}

// float32 gathers the view's elements row-major and converts them; ok is
// false for a tensor that is not floating point.
func (t *tensor) float32() (Tensor, bool, error) {
	read, ok := floatReaders[t.st.dtype]
	if !ok {
		return Tensor{}, false, nil
	}
	shape := make([]int, len(t.size))
	n := int64(1)
	for i, s := range t.size {
		if s < 0 {
			return Tensor{}, false, fmt.Errorf("size %v", t.size)
		}
		shape[i], n = int(s), n*s
	}
	out := make([]float32, n)
	idx := make([]int64, len(t.size))
	es := int64(elemSize[t.st.dtype])
	for i := range out {
		at := t.offset
		for d, k := range idx {
			at += k * t.stride[d]
		}
		if at < 0 || at >= t.st.numel {
			return Tensor{}, false, fmt.Errorf("element %d at %d is outside its storage of %d", i, at, t.st.numel)
		}
		out[i] = read(t.st.data[at*es:])
		for d := len(idx) - 1; d >= 0; d-- { // the next index, last axis fastest
			idx[d]++
			if idx[d] < t.size[d] {
				break
			}
			idx[d] = 0
		}
	}
	return Tensor{Shape: shape, Data: out}, true, nil
}

var floatReaders = map[string]func([]byte) float32{
	"Float":    func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) },
	"Double":   func(b []byte) float32 { return float32(math.Float64frombits(binary.LittleEndian.Uint64(b))) },
	"Half":     func(b []byte) float32 { return halfToFloat(binary.LittleEndian.Uint16(b)) },
	"BFloat16": func(b []byte) float32 { return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16) },
}

// halfToFloat converts IEEE 754 binary16 to float32 exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: frac * 2^-24.
	v := float32(frac) * float32(math.Ldexp(1, -24))
	if sign != 0 {
		v = -v
	}
	return v
}
