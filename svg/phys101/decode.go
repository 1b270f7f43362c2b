package phys101

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strconv"
	"strings"
)

// install is what every message about a missing ffmpeg says to do.
const install = "install ffmpeg (Debian: apt-get install ffmpeg; `make deps` does it)"

// tool finds ffmpeg or ffprobe on PATH.
func tool(name, clip string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("phys101: decoding %s needs %s, which is not on PATH: %s", clip, name, install)
	}
	return p, nil
}

// probe returns a video's frame size.
func probe(path string) (w, h int, err error) {
	ffprobe, err := tool("ffprobe", path)
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(ffprobe, "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=width,height", "-of", "csv=p=0", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, corrupt(path, "ffprobe", err, stderr.String())
	}
	parts := strings.Split(strings.TrimSpace(string(out)), ",")
	if len(parts) == 2 {
		w, errW := strconv.Atoi(parts[0])
		h, errH := strconv.Atoi(parts[1])
		if errW == nil && errH == nil && w > 0 && h > 0 {
			return w, h, nil
		}
	}
	return 0, 0, corrupt(path, "ffprobe", fmt.Errorf("no video stream (it printed %q)", out), stderr.String())
}

func corrupt(path, what string, err error, stderr string) error {
	msg := strings.TrimSpace(stderr)
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		msg = msg[i+1:] // the last line says what failed
	}
	if msg != "" {
		msg = ": " + msg
	}
	return fmt.Errorf("phys101: %s cannot be decoded (%s: %v%s): the file is damaged or not a video; extract it again from Physics 101's archive", path, what, err, msg)
}

// prep is the reference's per-frame preprocessing: torchvision's
// CenterCrop(Crop) then Resize((Size, Size)) on a uint8 tensor.
type prep struct {
	w, h, crop, size int
	top, left        int
	rows, cols       []tap // per output row and column
}

// tap is a bilinear source pair and its weights.
type tap struct {
	i0, i1 int
	w0, w1 float32
}

func newPrep(w, h, crop, size int) (*prep, error) {
	if crop > w || crop > h {
		return nil, fmt.Errorf("frames of %dx%d are smaller than the %d-pixel crop", w, h, crop)
	}
	p := &prep{w: w, h: h, crop: crop, size: size,
		// torchvision: int(round((h - crop) / 2.0)), Python's round
		// halving to even.
		top:  int(math.RoundToEven(float64(h-crop) / 2)),
		left: int(math.RoundToEven(float64(w-crop) / 2)),
	}
	p.rows, p.cols = linearTaps(crop, size), linearTaps(crop, size)
	return p, nil
}

// linearTaps are PyTorch's bilinear source indices and weights for
// resizing n to m without antialiasing and align_corners=False, in
// float32 as its CPU kernel computes them: scale = n/m, source x =
// max(scale (i + 0.5) - 0.5, 0), i0 = floor(x), i1 = i0 + 1 unless i0 is
// the last, weights 1 - (x - i0) and x - i0.
func linearTaps(n, m int) []tap {
	scale := float32(n) / float32(m)
	taps := make([]tap, m)
	for i := range taps {
		x := scale*(float32(i)+0.5) - 0.5
		if x < 0 {
			x = 0
		}
		i0 := int(x)
		i1 := i0
		if i0 < n-1 {
			i1 = i0 + 1
		}
		l1 := x - float32(i0)
		taps[i] = tap{i0: i0, i1: i1, w0: 1 - l1, w1: l1}
	}
	return taps
}

// apply crops and resizes one rgb24 frame (h rows of w RGB triples) into
// dst, [3, size, size] bytes: each output the bilinear mix in float32,
// rows outer and columns inner as PyTorch sums them, then rounded half to
// even and cast to uint8 as torchvision does for uint8 images.
func (p *prep) apply(dst, rgb []byte) {
	plane := p.size * p.size
	for i, r := range p.rows {
		row0 := (p.top + r.i0) * p.w * 3
		row1 := (p.top + r.i1) * p.w * 3
		for j, c := range p.cols {
			x0, x1 := (p.left+c.i0)*3, (p.left+c.i1)*3
			for ch := range 3 {
				top := float32(rgb[row0+x0+ch])*c.w0 + float32(rgb[row0+x1+ch])*c.w1
				bottom := float32(rgb[row1+x0+ch])*c.w0 + float32(rgb[row1+x1+ch])*c.w1
				v := math.RoundToEven(float64(top*r.w0 + bottom*r.w1))
				dst[ch*plane+i*p.size+j] = byte(min(255, max(0, v)))
			}
		}
	}
}

// decoded is a clip after subsampling: every step-th frame, preprocessed.
type decoded struct {
	frames [][]byte // [3, size, size] each
}

// decode runs ffmpeg on a clip and preprocesses every step-th frame (the
// first, the third, ... for step 2: vid[::2]).
func decode(path string, step, crop, size int) (*decoded, error) {
	w, h, err := probe(path)
	if err != nil {
		return nil, err
	}
	if crop == 0 {
		crop = min(w, h)
	}
	p, err := newPrep(w, h, crop, size)
	if err != nil {
		return nil, fmt.Errorf("phys101: %s: %v (Config.Crop 0 crops the shorter side)", path, err)
	}
	ffmpeg, err := tool("ffmpeg", path)
	if err != nil {
		return nil, err
	}
	// Every decoded frame, none duplicated or dropped (passthrough), as
	// 8-bit RGB; -xerror stops at the first decoding error.
	cmd := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-xerror", "-i", path,
		"-map", "0:v:0", "-vsync", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("phys101: decoding %s: %w", path, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("phys101: decoding %s: starting ffmpeg: %w", path, err)
	}
	r := bufio.NewReaderSize(out, 1<<20)
	frame := make([]byte, w*h*3)
	d := &decoded{}
	var readErr error
	for k := 0; ; k++ {
		if _, err := io.ReadFull(r, frame); err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = fmt.Errorf("frame %d is cut short (%w)", k, err)
			}
			break
		}
		if k%step == 0 {
			f := make([]byte, 3*size*size)
			p.apply(f, frame)
			d.frames = append(d.frames, f)
		}
	}
	_, _ = io.Copy(io.Discard, r) // let ffmpeg finish writing before Wait
	if err := cmd.Wait(); err != nil {
		return nil, corrupt(path, "ffmpeg", err, stderr.String())
	}
	if readErr != nil {
		return nil, corrupt(path, "reading its frames", readErr, stderr.String())
	}
	if len(d.frames) == 0 {
		return nil, corrupt(path, "ffmpeg", errors.New("no frames"), stderr.String())
	}
	return d, nil
}
