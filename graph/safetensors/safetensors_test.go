package safetensors

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/graph/atomicfile"
)

// sampleFile returns a small checkpoint with a matrix, a vector, a
// scalar, an empty tensor and special float values.
func sampleFile() *File {
	return &File{
		Tensors: map[string]Tensor{
			"enc.w":  {Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
			"enc.b":  {Shape: []int{3}, Data: []float32{-1, float32(math.Inf(1)), 1e-30}},
			"scale":  {Shape: []int{}, Data: []float32{0.5}},
			"empty":  {Shape: []int{0, 4}, Data: []float32{}},
			"zz.log": {Shape: []int{1}, Data: []float32{float32(math.Copysign(0, -1))}},
		},
		Meta: map[string]string{"epoch": "7", "config": `{"lr":0.001}`},
	}
}

// rawFile assembles a safetensors file from a header and a data section,
// without any checking, for tests of the reader.
func rawFile(header string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	want := sampleFile()
	if err := WriteFile(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Meta, want.Meta) {
		t.Errorf("meta = %v, want %v", got.Meta, want.Meta)
	}
	if len(got.Tensors) != len(want.Tensors) {
		t.Fatalf("got %d tensors, want %d", len(got.Tensors), len(want.Tensors))
	}
	for name, w := range want.Tensors {
		g := got.Tensors[name]
		if !reflect.DeepEqual(g.Shape, w.Shape) || len(g.Data) != len(w.Data) {
			t.Errorf("%s: got shape %v len %d, want %v len %d", name, g.Shape, len(g.Data), w.Shape, len(w.Data))
			continue
		}
		for i := range w.Data {
			if math.Float32bits(g.Data[i]) != math.Float32bits(w.Data[i]) {
				t.Errorf("%s[%d] = %v, want %v", name, i, g.Data[i], w.Data[i])
			}
		}
	}
	if err := got.Expect(map[string][]int{"enc.w": {2, 3}, "enc.b": {3}, "scale": {}, "empty": {0, 4}, "zz.log": {1}}); err != nil {
		t.Error(err)
	}
	if !got.Verified {
		t.Error("a file WriteFile wrote is not Verified on reading")
	}
}

// TestChecksumCoversHeader: any damaged or edited byte of the header is
// reported as damage by the checksum, before the header's entries are
// interpreted (a damaged dtype used to draw advice about PyTorch dtypes),
// and a file whose checksum entry itself was damaged is read, but not
// Verified.
func TestChecksumCoversHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.safetensors")
	if err := WriteFile(path, sampleFile()); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := int(binary.LittleEndian.Uint64(good))
	edit := func(old, new string) []byte {
		hdr := string(good[8 : 8+n])
		if !strings.Contains(hdr, old) || len(old) != len(new) {
			t.Fatalf("header %s lacks %q", hdr, old)
		}
		return append(append(bytes.Clone(good[:8]), strings.Replace(hdr, old, new, 1)...), good[8+n:]...)
	}
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"flipped dtype byte", edit(`"F32"`, `"F33"`)},
		{"edited epoch", edit(`"epoch":"7"`, `"epoch":"9"`)},
		{"edited shape", edit(`"shape":[2,3]`, `"shape":[3,2]`)},
		{"flipped checksum digit", func() []byte {
			b := bytes.Clone(good)
			i := bytes.Index(b, []byte(ChecksumKey)) + len(ChecksumKey) + 3
			b[i] ^= 1
			return b
		}()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, tt.b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile(path)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "damaged") || strings.Contains(err.Error(), "dtype") {
				t.Errorf("error %v, want a checkpoint damage message (ErrCorrupt)", err)
			}
		})
	}
	if err := os.WriteFile(path, edit(`"`+ChecksumKey+`"`, `"`+strings.ToUpper(ChecksumKey)+`"`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ReadFile(path)
	if err != nil || c.Verified {
		t.Errorf("damaged checksum key: %v, Verified %v; want it read unverified", err, c != nil && c.Verified)
	}
}

// TestReadDataChecksum: files written with the data-only checksum of
// earlier versions are verified on their data and read, unverified.
func TestReadDataChecksum(t *testing.T) {
	data := binary.LittleEndian.AppendUint32(nil, math.Float32bits(1.5))
	sum := sha256.Sum256(data)
	hdr := fmt.Sprintf(`{"__metadata__":{"%s":"%x"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, DataChecksumKey, sum)
	c, err := decode(rawFile(hdr, data))
	if err != nil || c.Verified || len(c.Meta) != 0 {
		t.Fatalf("decode: %v (Verified %v, meta %v)", err, c != nil && c.Verified, c)
	}
	data[0] ^= 1
	if _, err := decode(rawFile(hdr, data)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("damaged data under a data checksum: %v", err)
	}
}

func TestFileDeterministicLayout(t *testing.T) {
	dir := t.TempDir()
	var files [][]byte
	for i := range 3 {
		path := filepath.Join(dir, fmt.Sprintf("c%d.safetensors", i))
		if err := WriteFile(path, sampleFile()); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	for i := 1; i < len(files); i++ {
		if !bytes.Equal(files[0], files[i]) {
			t.Fatalf("write %d differs from write 0", i)
		}
	}
	b := files[0]
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 || b[8] != '{' {
		t.Errorf("header length %d not 8-aligned or header does not start with '{'", n)
	}
	hdr := string(b[8 : 8+n])
	if !strings.Contains(hdr, `"`+ChecksumKey+`":"`) || !strings.HasSuffix(strings.TrimRight(hdr, " "), "}") {
		t.Errorf("unexpected header %s", hdr)
	}
	// Tensors are laid out in name order: "empty" (0 bytes), "enc.b" at 0.
	if !strings.Contains(hdr, `"enc.b":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}`) ||
		!strings.Contains(hdr, `"scale":{"dtype":"F32","shape":[],"data_offsets":[36,40]}`) {
		t.Errorf("unexpected layout in header %s", hdr)
	}
}

func TestReadForeignFileWithoutChecksum(t *testing.T) {
	// As PyTorch's safetensors writes it: no metadata, 8-aligned header.
	data := binary.LittleEndian.AppendUint32(nil, math.Float32bits(1.5))
	data = binary.LittleEndian.AppendUint32(data, math.Float32bits(-2))
	hdr := `{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	hdr += strings.Repeat(" ", (8-len(hdr)%8)%8)
	path := filepath.Join(t.TempDir(), "foreign.safetensors")
	if err := os.WriteFile(path, rawFile(hdr, data), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Tensors["w"].Data; !reflect.DeepEqual(got, []float32{1.5, -2}) {
		t.Errorf("w = %v", got)
	}
	if len(c.Meta) != 0 {
		t.Errorf("meta = %v, want empty", c.Meta)
	}
}

func TestReadFileErrors(t *testing.T) {
	valid := func(t *testing.T) []byte {
		path := filepath.Join(t.TempDir(), "v.safetensors")
		if err := WriteFile(path, sampleFile()); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	eight := make([]byte, 8)
	tests := []struct {
		name        string
		file        func(t *testing.T) []byte
		want        string
		wantCorrupt bool
	}{
		{"flipped data byte", func(t *testing.T) []byte { b := valid(t); b[len(b)-3] ^= 0x40; return b }, "checksum mismatch", true},
		{"truncated data", func(t *testing.T) []byte { b := valid(t); return b[:len(b)-1] }, "truncated", true},
		{"truncated header length", func(t *testing.T) []byte { return valid(t)[:5] }, "shorter than the 8-byte", true},
		{"truncated header", func(t *testing.T) []byte { return valid(t)[:40] }, "beyond the file size", true},
		{"empty file", func(*testing.T) []byte { return nil }, "truncated", true},
		{"garbage", func(*testing.T) []byte { return []byte("this is not a checkpoint at all, just text") }, "beyond the file size", true},
		{"bad JSON", func(*testing.T) []byte { return rawFile(`{"w": [1, 2,   `, nil) }, "not a JSON object", true},
		{"bad entry", func(*testing.T) []byte { return rawFile(`{"w":{"dtype":7}}`, nil) }, `tensor "w": bad header entry`, true},
		{"bad metadata", func(*testing.T) []byte { return rawFile(`{"__metadata__":{"a":1}}`, nil) }, "not an object of strings", true},
		{"unsupported dtype", func(*testing.T) []byte {
			return rawFile(`{"w":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}`, eight)
		}, `dtype "F16" but only F32 is supported`, false},
		{"no shape", func(*testing.T) []byte { return rawFile(`{"w":{"dtype":"F32","data_offsets":[0,8]}}`, eight) }, "has no shape", true},
		{"negative dimension", func(*testing.T) []byte {
			return rawFile(`{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, eight)
		}, "negative dimension", true},
		{"three offsets", func(*testing.T) []byte {
			return rawFile(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}`, eight)
		}, "must be [begin, end]", true},
		{"reversed offsets", func(*testing.T) []byte {
			return rawFile(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}`, eight)
		}, "not a valid range", true},
		{"offsets out of range", func(*testing.T) []byte {
			return rawFile(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, eight)
		}, "out of range", true},
		{"offsets do not match shape", func(*testing.T) []byte {
			return rawFile(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, eight)
		}, "shape [3] of F32 needs 12", true},
		{"overlapping", func(*testing.T) []byte {
			return rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight)
		}, "overlap", true},
		{"gap", func(*testing.T) []byte {
			return rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight)
		}, "gap", true},
		{"trailing bytes", func(*testing.T) []byte {
			return rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, eight)
		}, "trailing bytes", true},
		{"bad checksum text", func(*testing.T) []byte {
			return rawFile(`{"__metadata__":{"sha256":"00"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, eight)
		}, "checksum mismatch", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.safetensors")
			if err := os.WriteFile(path, tt.file(t), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile(path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || !strings.Contains(msg, path) {
				t.Errorf("error %q does not contain %q and the path", msg, tt.want)
			}
			if got := errors.Is(err, ErrCorrupt); got != tt.wantCorrupt {
				t.Errorf("errors.Is(err, ErrCorrupt) = %v, want %v", got, tt.wantCorrupt)
			}
			if tt.wantCorrupt && !strings.Contains(msg, "delete it or resume from an earlier checkpoint") {
				t.Errorf("error %q lacks the advice", msg)
			}
		})
	}
}

func TestReadFileMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.safetensors")
	_, err := ReadFile(path)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v", err)
	}
}

func TestWriteFileRejectsInvalid(t *testing.T) {
	tests := []struct {
		name string
		t    map[string]Tensor
		want string
	}{
		{"shape mismatch", map[string]Tensor{"w": {Shape: []int{2, 2}, Data: []float32{1}}}, "4 elements) but 1 values"},
		{"negative", map[string]Tensor{"w": {Shape: []int{-1}}}, "negative dimension"},
		{"reserved name", map[string]Tensor{"__metadata__": {Shape: []int{}, Data: []float32{1}}}, "not allowed"},
		{"empty name", map[string]Tensor{"": {Shape: []int{}, Data: []float32{1}}}, "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			err := WriteFile(filepath.Join(dir, "c.safetensors"), &File{Tensors: tt.t})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("files left behind: %v", ents)
			}
		})
	}
}

func TestFileAtomicity(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	if err := WriteFile(path, sampleFile()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)

	t.Run("leftover temp file", func(t *testing.T) {
		// What a crash between create and rename leaves behind.
		leftover := filepath.Join(dir, ".ckpt.safetensors.tmp-12345")
		if err := os.WriteFile(leftover, []byte("half a checkpo"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadFile(path); err != nil {
			t.Fatal(err)
		}
		c := sampleFile()
		c.Meta["epoch"] = "8"
		if err := WriteFile(path, c); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(path)
		if err != nil || got.Meta["epoch"] != "8" {
			t.Fatalf("after rewrite: %v, %v", got, err)
		}
		if err := WriteFile(path, sampleFile()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("failed write keeps previous", func(t *testing.T) {
		err := atomicfile.Write(path, func(w io.Writer) error {
			w.Write(bytes.Repeat([]byte{0xff}, 3<<20)) // more than the buffer
			return errors.New("disk on fire")
		})
		if err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Fatalf("err = %v", err)
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) {
			t.Fatal("previous checkpoint changed by a failed write")
		}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.Contains(e.Name(), ".tmp-") && e.Name() != ".ckpt.safetensors.tmp-12345" {
				t.Errorf("temporary file %s left behind", e.Name())
			}
		}
	})

	t.Run("missing directory", func(t *testing.T) {
		err := WriteFile(filepath.Join(dir, "no", "such", "dir", "c.safetensors"), sampleFile())
		if err == nil || !strings.Contains(err.Error(), "temporary file") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores directory permissions")
		}
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o755)
		if err := WriteFile(path, &File{}); err == nil {
			t.Fatal("write into a read-only directory succeeded")
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) {
			t.Fatal("previous checkpoint changed by a failed write")
		}
	})
}

func TestFileExpect(t *testing.T) {
	c := &File{Tensors: map[string]Tensor{
		"a": {Shape: []int{2}, Data: make([]float32, 2)},
		"b": {Shape: []int{2, 2}, Data: make([]float32, 4)},
		"x": {Shape: []int{1}, Data: make([]float32, 1)},
	}}
	tests := []struct {
		name string
		want map[string][]int
		errs []string // substrings; none means no error
	}{
		{"match", map[string][]int{"a": {2}, "b": {2, 2}, "x": {1}}, nil},
		{"missing", map[string][]int{"a": {2}, "b": {2, 2}, "x": {1}, "c": {3}}, []string{"missing: c [3]"}},
		{"extra", map[string][]int{"a": {2}, "b": {2, 2}}, []string{"extra: x [1]"}},
		{"mismatched", map[string][]int{"a": {2}, "b": {4}, "x": {1}}, []string{"mismatched: b has shape [2 2], want [4]"}},
		{"all", map[string][]int{"a": {3}, "c": {1}}, []string{"missing: c [1]", "extra: b [2 2]; x [1]", "mismatched: a has shape [2], want [3]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Expect(tt.want)
			if len(tt.errs) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tt.errs {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

func FuzzReadFile(f *testing.F) {
	path := filepath.Join(f.TempDir(), "seed.safetensors")
	if err := WriteFile(path, sampleFile()); err != nil {
		f.Fatal(err)
	}
	seed, _ := os.ReadFile(path)
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte{})
	f.Add(rawFile(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(rawFile(`{"w":{"dtype":"F32","shape":[1073741824,4],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decode(b)
		if err != nil {
			return
		}
		for name, tn := range c.Tensors {
			n, err := numElements(tn.Shape)
			if err != nil || n != len(tn.Data) {
				t.Fatalf("accepted tensor %q with shape %v and %d values", name, tn.Shape, len(tn.Data))
			}
		}
	})
}

func ExampleWriteFile() {
	dir, _ := os.MkdirTemp("", "ckpt")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "epoch-3.safetensors")

	err := WriteFile(path, &File{
		Tensors: map[string]Tensor{"w": {Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}},
		Meta:    map[string]string{"epoch": "3"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Tensors["w"].Shape, c.Tensors["w"].Data, c.Meta["epoch"])
	fmt.Println(c.Expect(map[string][]int{"w": {4}, "b": {4}}))
	// Output:
	// [2 2] [1 2 3 4] 3
	// checkpoint does not match the model (was it written with another configuration?):
	//   missing: b [4]
	//   mismatched: w has shape [2 2], want [4]
}
