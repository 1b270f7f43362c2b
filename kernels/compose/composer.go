package compose

import (
	"fmt"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/shaders"
)

// Composer composes scenes on a device with shaders/compose.comp. It
// keeps its buffers and its recorded program while frames keep their
// size and their scenes fit, so a frame costs one upload and one submit.
// A Composer is not safe for concurrent use.
type Composer struct {
	d              *gpu.Device
	marks, compose *gpu.Kernel
	scene          *gpu.Buffer // the encoded scene, sceneWords long
	overlay, out   *gpu.Buffer // a word per pixel each
	prog           *gpu.Program
	sceneWords     int
	markCap        int
	width, height  int
}

// workgroup is the compositor's workgroup size, and span the pixels of a
// row one invocation of its compose pass fills.
const (
	workgroup = 64
	span      = 32
)

// NewComposer builds the compositor's two pipelines on d.
func NewComposer(d *gpu.Device) (*Composer, error) {
	c := &Composer{d: d}
	spv := shaders.SPIRV("compose")
	var err error
	// Every pass declares all three bindings (the shader uses them all
	// statically); the marks pass does not touch the frame.
	if c.marks, err = d.Kernel(gpu.KernelSpec{Name: "compose.marks", SPIRV: spv, PushBytes: 4,
		Bindings: []gpu.Access{gpu.Read, gpu.ReadWrite, gpu.Read}, Spec: []uint32{workgroup, 1, 1, 0}}); err != nil {
		return nil, err
	}
	if c.compose, err = d.Kernel(gpu.KernelSpec{Name: "compose.pixels", SPIRV: spv, PushBytes: 4,
		Bindings: []gpu.Access{gpu.Read, gpu.Read, gpu.Write}, Spec: []uint32{workgroup, 1, 1, 1, span}}); err != nil {
		return nil, err
	}
	return c, nil
}

// Compose composes s and returns the frame: a BGRA8 buffer of
// s.Width*s.Height*4 bytes on the Composer's device, valid until the next
// Compose or Close.
func (c *Composer) Compose(s *Scene) (*gpu.Buffer, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	words := s.encode()
	if err := c.fit(s.Width, s.Height, len(words), s.Marks()); err != nil {
		return nil, err
	}
	if err := c.scene.Write(0, u32Bytes(words)); err != nil {
		return nil, fmt.Errorf("compose: uploading the scene: %w", err)
	}
	if err := c.prog.Run(); err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	return c.out, nil
}

// Frame composes s and reads the frame back (BGRA8, as Render returns).
func (c *Composer) Frame(s *Scene) ([]byte, error) {
	out, err := c.Compose(s)
	if err != nil {
		return nil, err
	}
	px := make([]byte, out.Size())
	if err := out.Read(0, px); err != nil {
		return nil, fmt.Errorf("compose: reading the frame back: %w", err)
	}
	return px, nil
}

// fit makes the buffers and the program hold a frame of width x height,
// a scene of words words and marks marks, growing them (by half again,
// so that a scene growing a little each frame is not re-recorded each
// frame) or remaking them for a new frame size.
func (c *Composer) fit(width, height, words, marks int) error {
	if c.prog != nil && width == c.width && height == c.height && words <= c.sceneWords && marks <= c.markCap {
		return nil
	}
	c.release()
	c.width, c.height = width, height
	c.sceneWords, c.markCap = max(words+words/2, 1024), max(marks+marks/2, workgroup)
	pixels := int64(width) * int64(height)
	var err error
	if c.scene, err = c.d.Alloc(4 * int64(c.sceneWords)); err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	if c.overlay, err = c.d.Alloc(4 * pixels); err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	if c.out, err = c.d.Alloc(4 * pixels); err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	r := c.d.NewRecorder()
	r.Fill(c.overlay, 0)
	r.Dispatch(c.marks, c.d.Grid(c.marks, c.markCap), gpu.Push{}.U32(uint32(c.markCap)), c.scene, c.overlay, c.out)
	runs := height * ((width + span - 1) / span)
	r.Dispatch(c.compose, c.d.Grid(c.compose, runs), gpu.Push{}.U32(uint32(runs)), c.scene, c.overlay, c.out)
	if c.prog, err = r.Finish(); err != nil {
		return fmt.Errorf("compose: recording the compositor: %w", err)
	}
	return nil
}

// release frees the buffers and the program.
func (c *Composer) release() {
	if c.prog != nil {
		c.prog.Close()
	}
	for _, b := range []*gpu.Buffer{c.scene, c.overlay, c.out} {
		if b != nil {
			b.Free()
		}
	}
	c.prog, c.scene, c.overlay, c.out = nil, nil, nil, nil
}

// Close frees what the Composer holds (the pipelines belong to the device).
func (c *Composer) Close() { c.release() }

func u32Bytes(v []uint32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = byte(x), byte(x>>8), byte(x>>16), byte(x>>24)
	}
	return out
}
