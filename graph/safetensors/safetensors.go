package safetensors

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/noether-vk/noether-vk/graph/atomicfile"
)

// Tensor is one named array of a file: a row-major float32 array of
// the given shape. A scalar has an empty Shape and one element.
type Tensor struct {
	Shape []int
	Data  []float32
}

// File is the content of a safetensors file: named tensors and free
// string metadata (epoch, step, configuration, ...).
//
// On disk: an 8-byte little-endian header length
// N, N bytes of JSON header (padded with spaces to a multiple of 8) giving
// for every tensor its dtype ("F32"), shape and byte range in the data
// section, plus a "__metadata__" object of strings, then the data section,
// with the tensors laid out in name order. Files written by other
// safetensors writers (PyTorch, ...) are read as long as every tensor is
// F32.
type File struct {
	Tensors map[string]Tensor
	Meta    map[string]string
	// Verified is set by ReadFile when the file carried ChecksumKey and
	// matched it: every byte, header included, is as it was written.
	// Files from other tools carry no checksum and are read unverified;
	// callers that need an intact file of their own (checkpoints to
	// resume from) require Verified. WriteFile ignores it.
	Verified bool
}

// ChecksumKey is the metadata key under which WriteFile stores the hex
// SHA-256 of the whole file, header and data, computed with the 64
// digits of this value written as zeros. ReadFile verifies it before it
// interprets the header's entries, so a damaged byte anywhere, a
// hand-edited epoch included, is reported as damage, and removes it
// from the returned Meta.
const ChecksumKey = "file_sha256"

// DataChecksumKey is the checksum of earlier versions of WriteFile: the
// SHA-256 of the data section alone. ReadFile still verifies it when
// present (files written then, such as committed test data), but a file
// with only this checksum is not Verified: its header is unprotected.
const DataChecksumKey = "sha256"

// zeroSum stands for the file checksum while it is computed.
var zeroSum = strings.Repeat("0", sha256.Size*2)

// metadataKey is the reserved safetensors header entry for metadata.
const metadataKey = "__metadata__"

// ErrCorrupt is wrapped by every error ReadFile returns for
// a file that exists but cannot be trusted (truncated, malformed, failing
// its checksum), so that callers can fall back to an earlier checkpoint
// with errors.Is.
var ErrCorrupt = errors.New("corrupt checkpoint")

// tensorHeader is the header entry of one tensor.
type tensorHeader struct {
	Dtype       string  `json:"dtype"`
	Shape       []int   `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// numElements returns the number of elements of shape, or an error if a
// dimension is negative or the product overflows.
func numElements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %v", d, shape)
		}
		if d != 0 && n > math.MaxInt32/d {
			return 0, fmt.Errorf("shape %v has too many elements", shape)
		}
		n *= d
	}
	return n, nil
}

// WriteFile writes c to path atomically (into a temporary file in
// the same directory, fsynced, renamed over path, then the directory
// fsynced), so that a crash leaves either the previous checkpoint or the
// new one, never a torn file. The
// output is byte-for-byte deterministic for equal checkpoints. The
// SHA-256 of the whole file is stored in the metadata under ChecksumKey,
// replacing any value c.Meta has there (and any DataChecksumKey).
func WriteFile(path string, c *File) error {
	names := make([]string, 0, len(c.Tensors))
	for name, t := range c.Tensors {
		if name == "" || name == metadataKey {
			return fmt.Errorf("writing checkpoint %s: tensor name %q is not allowed", path, name)
		}
		n, err := numElements(t.Shape)
		if err != nil {
			return fmt.Errorf("writing checkpoint %s: tensor %q: %v", path, name, err)
		}
		if n != len(t.Data) {
			return fmt.Errorf("writing checkpoint %s: tensor %q has shape %v (%d elements) but %d values", path, name, t.Shape, n, len(t.Data))
		}
		names = append(names, name)
	}
	sort.Strings(names)

	// Data section, in name order, and its checksum.
	var size int64
	for _, name := range names {
		size += 4 * int64(len(c.Tensors[name].Data))
	}
	data := make([]byte, 0, size)
	header := make(map[string]any, len(names)+1)
	for _, name := range names {
		t := c.Tensors[name]
		begin := int64(len(data))
		for _, v := range t.Data {
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{} // JSON [] rather than null for scalars
		}
		header[name] = tensorHeader{Dtype: "F32", Shape: shape, DataOffsets: []int64{begin, int64(len(data))}}
	}
	meta := make(map[string]string, len(c.Meta)+1)
	for k, v := range c.Meta {
		meta[k] = v
	}
	delete(meta, DataChecksumKey)
	meta[ChecksumKey] = zeroSum
	header[metadataKey] = meta

	// encoding/json sorts map keys, so the header is deterministic.
	hdr, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("writing checkpoint %s: encoding header: %v", path, err)
	}
	if pad := (8 - len(hdr)%8) % 8; pad > 0 {
		hdr = append(hdr, bytes.Repeat([]byte{' '}, pad)...)
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(hdr)))
	at, err := checksumAt(hdr, zeroSum)
	if err != nil {
		return fmt.Errorf("writing checkpoint %s: %v", path, err)
	}
	h := sha256.New()
	for _, b := range [][]byte{n[:], hdr, data} {
		h.Write(b)
	}
	hex.Encode(hdr[at:at+len(zeroSum)], h.Sum(nil))
	return atomicfile.Write(path, func(w io.Writer) error {
		for _, b := range [][]byte{n[:], hdr, data} {
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReadFile reads a safetensors checkpoint written by WriteFile
// or by another tool. When the metadata holds ChecksumKey it first checks
// the SHA-256 of the whole file (and sets Verified), then the header
// against the file (sizes, offsets, dtypes). A missing file gives an error
// wrapping fs.ErrNotExist; a file that cannot be trusted gives one
// wrapping ErrCorrupt.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("reading checkpoint %s: the file does not exist (check the path, or start training from scratch): %w", path, err)
		}
		return nil, fmt.Errorf("reading checkpoint %s: %w", path, err)
	}
	c, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint %s: %w", path, err)
	}
	return c, nil
}

// corrupt returns an error wrapping ErrCorrupt with the given
// description and the advice that applies to every corrupt file.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s; the file is corrupt; delete it or resume from an earlier checkpoint",
		ErrCorrupt, fmt.Sprintf(format, args...))
}

// decode parses and checks the bytes of a safetensors file.
func decode(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, corrupt("file is truncated: %d bytes, shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b[:8])
	if n > uint64(len(b)-8) {
		return nil, corrupt("header length %d is beyond the file size (%d bytes after the length); the file is truncated or not a safetensors file", n, len(b)-8)
	}
	hdr, data := b[8:8+n], b[8+n:]

	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, corrupt("header is not a JSON object: %v", err)
	}
	c := &File{Tensors: make(map[string]Tensor, len(raw)), Meta: map[string]string{}}
	if m, ok := raw[metadataKey]; ok {
		if err := json.Unmarshal(m, &c.Meta); err != nil {
			return nil, corrupt("%s is not an object of strings: %v", metadataKey, err)
		}
		if c.Meta == nil { // JSON null
			c.Meta = map[string]string{}
		}
		delete(raw, metadataKey)
	}
	// The checksums come first: a damaged header must be reported as
	// damage, not as whatever its damaged entries would mean.
	if want, ok := c.Meta[ChecksumKey]; ok {
		at, err := checksumAt(hdr, want)
		if err != nil {
			return nil, corrupt("%v", err)
		}
		whole := bytes.Clone(b)
		copy(whole[8+at:], zeroSum)
		if got := sha256.Sum256(whole); hex.EncodeToString(got[:]) != want {
			return nil, corrupt("checksum mismatch: the file hashes to SHA-256 %x but its header records %s: a byte of the header or the data was damaged or edited", got, want)
		}
		delete(c.Meta, ChecksumKey)
		c.Verified = true
	}
	if want, ok := c.Meta[DataChecksumKey]; ok {
		if got := sha256.Sum256(data); !strings.EqualFold(hex.EncodeToString(got[:]), want) {
			return nil, corrupt("checksum mismatch: the data section has SHA-256 %x but the header records %s", got, want)
		}
		delete(c.Meta, DataChecksumKey)
	}

	type span struct {
		name       string
		begin, end int64
	}
	spans := make([]span, 0, len(raw))
	headers := make(map[string]tensorHeader, len(raw))
	for name, m := range raw {
		var th tensorHeader
		if err := json.Unmarshal(m, &th); err != nil {
			return nil, corrupt("tensor %q: bad header entry: %v", name, err)
		}
		if th.Dtype != "F32" {
			return nil, fmt.Errorf("tensor %q has dtype %q but only F32 is supported; convert the tensor to float32 before saving (e.g. t.float() in PyTorch)",
				name, th.Dtype)
		}
		if th.Shape == nil {
			return nil, corrupt("tensor %q has no shape", name)
		}
		elems, err := numElements(th.Shape)
		if err != nil {
			return nil, corrupt("tensor %q: %v", name, err)
		}
		if len(th.DataOffsets) != 2 {
			return nil, corrupt("tensor %q: data_offsets must be [begin, end], got %v", name, th.DataOffsets)
		}
		begin, end := th.DataOffsets[0], th.DataOffsets[1]
		if begin < 0 || end < begin {
			return nil, corrupt("tensor %q: data_offsets [%d, %d] are not a valid range", name, begin, end)
		}
		if end > int64(len(data)) {
			return nil, corrupt("file is truncated or offsets are out of range: tensor %q needs bytes [%d, %d) of the data section, which has %d bytes", name, begin, end, len(data))
		}
		if end-begin != 4*int64(elems) {
			return nil, corrupt("tensor %q: data_offsets [%d, %d] hold %d bytes but shape %v of F32 needs %d", name, begin, end, end-begin, th.Shape, 4*elems)
		}
		headers[name] = th
		spans = append(spans, span{name, begin, end})
	}
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), strings.Compare(a.name, b.name))
	})
	var pos int64
	for _, s := range spans {
		switch {
		case s.begin < pos:
			return nil, corrupt("tensor %q: data_offsets [%d, %d] overlap the previous tensor, which ends at %d", s.name, s.begin, s.end, pos)
		case s.begin > pos:
			return nil, corrupt("tensor %q starts at %d but the previous tensor ends at %d (gap in the data section)", s.name, s.begin, pos)
		}
		pos = s.end
	}
	if pos != int64(len(data)) {
		return nil, corrupt("data section has %d bytes but the tensors cover %d (trailing bytes)", len(data), pos)
	}

	for name, th := range headers {
		d := data[th.DataOffsets[0]:th.DataOffsets[1]]
		vals := make([]float32, len(d)/4)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
		c.Tensors[name] = Tensor{Shape: th.Shape, Data: vals}
	}
	return c, nil
}

// checksumAt returns where, in the header hdr, the value sum of
// ChecksumKey starts. The value must be 64 lowercase hex digits written
// once, as WriteFile writes it, so that exactly those bytes are zeroed to
// verify it.
func checksumAt(hdr []byte, sum string) (int, error) {
	if len(sum) != len(zeroSum) || strings.Trim(sum, "0123456789abcdef") != "" {
		return 0, fmt.Errorf("checksum %q is not 64 lowercase hex digits: the header was damaged or edited", sum)
	}
	entry := []byte(`"` + ChecksumKey + `":"` + sum + `"`)
	i := bytes.Index(hdr, entry)
	if i < 0 || bytes.Count(hdr, entry) != 1 {
		return 0, fmt.Errorf("the %s entry is not written once, as WriteFile writes it: the header was damaged or edited", ChecksumKey)
	}
	return i + len(entry) - len(sum) - 1, nil
}

// Expect checks that c holds exactly the tensors in want, with the given
// shapes. The error lists every missing, extra and mismatched tensor, in
// name order, so that a checkpoint from another model configuration is
// reported at once.
func (c *File) Expect(want map[string][]int) error {
	var missing, extra, mismatched []string
	for name, shape := range want {
		t, ok := c.Tensors[name]
		switch {
		case !ok:
			missing = append(missing, fmt.Sprintf("%s %v", name, shape))
		case !slices.Equal(t.Shape, shape):
			mismatched = append(mismatched, fmt.Sprintf("%s has shape %v, want %v", name, t.Shape, shape))
		}
	}
	for name, t := range c.Tensors {
		if _, ok := want[name]; !ok {
			extra = append(extra, fmt.Sprintf("%s %v", name, t.Shape))
		}
	}
	if len(missing)+len(extra)+len(mismatched) == 0 {
		return nil
	}
	var sb strings.Builder
	sb.WriteString("checkpoint does not match the model (was it written with another configuration?):")
	for _, part := range []struct {
		what  string
		items []string
	}{{"missing", missing}, {"extra", extra}, {"mismatched", mismatched}} {
		if len(part.items) == 0 {
			continue
		}
		sort.Strings(part.items)
		fmt.Fprintf(&sb, "\n  %s: %s", part.what, strings.Join(part.items, "; "))
	}
	return errors.New(sb.String())
}
