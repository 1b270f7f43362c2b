package gpu_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	vk "github.com/vulkan-go/vulkan"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/shaders"
)

// open returns the validated test device (see gputest).
func open(t testing.TB) *gpu.Device { return gputest.Open(t) }

const local = 64

func kernels(t testing.TB, d *gpu.Device) (fill, cp, saxpy *gpu.Kernel) {
	t.Helper()
	var err error
	spec := []uint32{local}
	if fill, err = d.Kernel(gpu.KernelSpec{Name: "fill", SPIRV: shaders.SPIRV("fill"), Bindings: []gpu.Access{gpu.Write}, PushBytes: 8, Spec: spec}); err != nil {
		t.Fatal(err)
	}
	if cp, err = d.Kernel(gpu.KernelSpec{Name: "copy", SPIRV: shaders.SPIRV("copy"), Bindings: []gpu.Access{gpu.Read, gpu.Write}, PushBytes: 4, Spec: spec}); err != nil {
		t.Fatal(err)
	}
	if saxpy, err = d.Kernel(gpu.KernelSpec{Name: "saxpy", SPIRV: shaders.SPIRV("saxpy"), Bindings: []gpu.Access{gpu.Read, gpu.ReadWrite}, PushBytes: 8, Spec: spec}); err != nil {
		t.Fatal(err)
	}
	return
}

func alloc(t testing.TB, d *gpu.Device, n int) *gpu.Buffer {
	t.Helper()
	b, err := d.Alloc(int64(4 * n))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func read(t testing.TB, b *gpu.Buffer) []float32 {
	t.Helper()
	out := make([]float32, b.Size()/4)
	if err := b.ReadFloat32(0, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func write(t testing.TB, b *gpu.Buffer, v []float32) {
	t.Helper()
	if err := b.WriteFloat32(0, v); err != nil {
		t.Fatal(err)
	}
}

func finish(t testing.TB, r *gpu.Recorder) *gpu.Program {
	t.Helper()
	p, err := r.Finish()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestSaxpyShapes(t *testing.T) {
	d := open(t)
	_, _, saxpy := kernels(t, d)
	// Sizes around the workgroup size, and one past the 1-D grid limit so
	// the grid folds into y.
	sizes := []int{1, 3, local - 1, local, local + 1, 1000}
	if !testing.Short() {
		sizes = append(sizes, int(d.Info.MaxWorkgroupCount[0])*local+5)
	}
	for _, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			x, y := alloc(t, d, n), alloc(t, d, n)
			defer x.Free()
			defer y.Free()
			xs, ys := make([]float32, n), make([]float32, n)
			for i := range xs {
				xs[i], ys[i] = float32(i%97)-48, float32(i%13)*0.5
			}
			write(t, x, xs)
			write(t, y, ys)
			r := d.NewRecorder()
			r.Dispatch(saxpy, d.Grid(saxpy, n), gpu.Push{}.U32(uint32(n)).F32(2.5), x, y)
			p := finish(t, r)
			if err := p.Run(); err != nil {
				t.Fatal(err)
			}
			got := read(t, y)
			for i := range got {
				if want := 2.5*xs[i] + ys[i]; got[i] != want {
					t.Fatalf("y[%d] = %v, want %v", i, got[i], want)
				}
			}
		})
	}
}

// TestReplay runs one recorded command buffer 1000 times; each run adds
// x to y, so after run k every y[i] must equal k*x[i] exactly.
func TestReplay(t *testing.T) {
	d := open(t)
	_, _, saxpy := kernels(t, d)
	const n = 257
	x, y := alloc(t, d, n), alloc(t, d, n)
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = float32(i%7 + 1)
	}
	write(t, x, xs)
	r := d.NewRecorder()
	r.Dispatch(saxpy, d.Grid(saxpy, n), gpu.Push{}.U32(n).F32(1), x, y)
	p := finish(t, r)
	got := make([]float32, n)
	for k := 1; k <= 1000; k++ {
		if err := p.Run(); err != nil {
			t.Fatalf("run %d: %v", k, err)
		}
		if err := y.ReadFloat32(0, got); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != float32(k)*xs[i] {
				t.Fatalf("run %d: y[%d] = %v, want %v", k, i, got[i], float32(k)*xs[i])
			}
		}
	}
}

// TestBarriers checks that a dependent chain is ordered (and correct) and
// that independent dispatches get no barrier.
func TestBarriers(t *testing.T) {
	d := open(t)
	fill, cp, saxpy := kernels(t, d)
	const n = 1000
	g := d.Grid(fill, n)
	a, b, c := alloc(t, d, n), alloc(t, d, n), alloc(t, d, n)

	// a = 3; b = a (RAW); b += 2a (RAW and WAW on b); a = 1 (WAR: the
	// saxpy read a); c = b (b was last written before the WAR barrier, so
	// no barrier) -> c = 9, a = 1, with exactly 3 barriers.
	r := d.NewRecorder()
	r.Dispatch(fill, g, gpu.Push{}.U32(n).F32(3), a)
	r.Dispatch(cp, g, gpu.Push{}.U32(n), a, b)
	r.Dispatch(saxpy, g, gpu.Push{}.U32(n).F32(2), a, b)
	r.Dispatch(fill, g, gpu.Push{}.U32(n).F32(1), a)
	r.Dispatch(cp, g, gpu.Push{}.U32(n), b, c)
	p := finish(t, r)
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
	if p.Barriers() != 3 {
		t.Errorf("dependent chain: %d barriers, want 3", p.Barriers())
	}
	for i, v := range read(t, c) {
		if v != 9 {
			t.Fatalf("c[%d] = %v, want 9", i, v)
		}
	}
	if v := read(t, a)[n-1]; v != 1 {
		t.Fatalf("a = %v after the WAR-ordered fill, want 1", v)
	}

	// Ten fills of ten distinct buffers, then reads of disjoint views of one
	// buffer: no hazard, no barrier.
	r = d.NewRecorder()
	var bufs []*gpu.Buffer
	for i := range 10 {
		bufs = append(bufs, alloc(t, d, n))
		r.Dispatch(fill, g, gpu.Push{}.U32(n).F32(float32(i)), bufs[i])
	}
	big := alloc(t, d, 4*n)
	align := int64(d.MemoryStats().Alignment)
	for i := range 2 {
		v, err := big.View(int64(i)*2*n*4, n*4)
		if err != nil {
			t.Fatal(err)
		}
		r.Dispatch(cp, g, gpu.Push{}.U32(n), bufs[i], v)
	}
	if _, err := big.View(align/2, 4); err == nil && align > 1 {
		t.Error("View at an unaligned offset succeeded")
	}
	p = finish(t, r)
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
	// The copies read bufs[0] and bufs[1] after their fills: exactly one
	// barrier, placed before the first copy.
	if p.Barriers() != 1 {
		t.Errorf("10 independent fills then 2 copies: %d barriers, want 1", p.Barriers())
	}
	if got := read(t, big); got[0] != 0 || got[2*n] != 1 || got[n] != 0 {
		t.Errorf("view copies landed wrong: %v %v %v", got[0], got[2*n], got[n])
	}
}

func TestAllocator(t *testing.T) {
	d := open(t)
	fill, _, _ := kernels(t, d)
	align := d.MemoryStats().Alignment
	if align == 0 || align&(align-1) != 0 {
		t.Fatalf("alignment %d is not a power of two", align)
	}
	// Dirty a buffer, free it, and check the next allocation of the same
	// size reuses the memory and comes back zeroed.
	const n = 4099
	a := alloc(t, d, n)
	r := d.NewRecorder()
	r.Dispatch(fill, d.Grid(fill, n), gpu.Push{}.U32(n).F32(7), a)
	p := finish(t, r)
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
	before := d.MemoryStats()
	a.Free()
	a.Free() // a second Free is harmless
	b := alloc(t, d, n)
	after := d.MemoryStats()
	if after.Blocks != before.Blocks || after.InUse != before.InUse {
		t.Errorf("freed memory not reused: before %+v after %+v", before, after)
	}
	for i, v := range read(t, b) {
		if v != 0 {
			t.Fatalf("reused buffer not zeroed: [%d] = %v", i, v)
		}
	}
	// Many odd sizes: every range aligned, none overlapping, all zero.
	rng := rand.New(rand.NewPCG(1, 2))
	var live []*gpu.Buffer
	for range 200 {
		m := 1 + rng.IntN(10000)
		bb, err := d.Alloc(int64(m))
		if err != nil {
			t.Fatal(err)
		}
		live = append(live, bb)
		if rng.IntN(3) == 0 {
			k := rng.IntN(len(live))
			live[k].Free()
			live = append(live[:k], live[k+1:]...)
		}
	}
	if err := checkLayout(live, align); err != nil {
		t.Error(err)
	}
	s := d.MemoryStats()
	if s.InUse > s.Reserved {
		t.Errorf("in use %d > reserved %d", s.InUse, s.Reserved)
	}
	for _, bb := range live {
		bb.Free()
	}
	b.Free()
	if s := d.MemoryStats(); s.InUse != 0 {
		t.Errorf("%d bytes in use after freeing everything", s.InUse)
	}
}

func TestStagingPath(t *testing.T) {
	d := open(t)
	d.ForceStaging()
	_, _, saxpy := kernels(t, d)
	const n = 5000
	x, y := alloc(t, d, n), alloc(t, d, n)
	if got := read(t, y); got[0] != 0 || got[n-1] != 0 {
		t.Fatalf("staged buffer not zero-filled")
	}
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = float32(i)
	}
	write(t, x, xs)
	write(t, y, xs)
	r := d.NewRecorder()
	r.Dispatch(saxpy, d.Grid(saxpy, n), gpu.Push{}.U32(n).F32(-3), x, y)
	if err := finish(t, r).Run(); err != nil {
		t.Fatal(err)
	}
	for i, v := range read(t, y) {
		if v != -2*xs[i] {
			t.Fatalf("y[%d] = %v, want %v", i, v, -2*xs[i])
		}
	}
	// Partial reads and writes at odd offsets.
	if err := y.WriteFloat32(17, []float32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	part := make([]float32, 4)
	if err := y.ReadFloat32(16, part); err != nil {
		t.Fatal(err)
	}
	if part[0] != -32 || part[1] != 1 || part[3] != 3 {
		t.Errorf("partial staged round trip: %v", part)
	}
}

func TestFailures(t *testing.T) {
	d := open(t)
	_, _, saxpy := kernels(t, d)

	if _, err := d.Alloc(int64(d.Info.MaxStorageBufferRange) + 1); !errors.Is(err, gpu.ErrTooLarge) {
		t.Errorf("buffer over maxStorageBufferRange: err = %v, want ErrTooLarge", err)
	}
	if m := d.MaxBufferSize(); uint64(m) > d.Info.MaxStorageBufferRange || (d.Info.MaxAllocationSize > 0 && uint64(m) > d.Info.MaxAllocationSize) {
		t.Errorf("MaxBufferSize %d exceeds maxStorageBufferRange %d or maxMemoryAllocationSize %d", m, d.Info.MaxStorageBufferRange, d.Info.MaxAllocationSize)
	}
	if _, err := d.Alloc(0); err == nil {
		t.Error("Alloc(0) succeeded")
	}
	x, y := alloc(t, d, 4), alloc(t, d, 4)
	if err := x.WriteFloat32(3, []float32{1, 2}); err == nil {
		t.Error("write past the end succeeded")
	}

	r := d.NewRecorder()
	r.Dispatch(saxpy, [3]uint32{1, 1, 1}, gpu.Push{}.U32(4), x, y)
	if _, err := r.Finish(); err == nil {
		t.Error("short push constants accepted")
	}
	r = d.NewRecorder()
	r.Dispatch(saxpy, [3]uint32{d.Info.MaxWorkgroupCount[0] + 1, 1, 1}, gpu.Push{}.U32(4).F32(1), x, y)
	if _, err := r.Finish(); err == nil {
		t.Error("grid over maxComputeWorkGroupCount accepted")
	}
	r = d.NewRecorder()
	r.Dispatch(saxpy, [3]uint32{1, 1, 1}, gpu.Push{}.U32(4).F32(1), x)
	if _, err := r.Finish(); err == nil {
		t.Error("missing binding accepted")
	}

	// Out of device memory: pretend every heap holds only what is in use
	// plus 1 MiB; a larger request is refused with a clear error before the
	// driver is asked.
	small, err := gpu.Open(gpu.Options{Validate: true, BlockSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for i := range small.Info.Heaps {
		small.Info.Heaps[i].Size = 1 << 20
	}
	if _, err := small.Alloc(2 << 20); !errors.Is(err, gpu.ErrOutOfDeviceMemory) {
		t.Errorf("request over the heap: err = %v, want ErrOutOfDeviceMemory", err)
	} else {
		t.Logf("out-of-memory error reads: %v", err)
	}
	// Out of allocations: a device that allows three keeps one for the
	// staging buffer, so the third block is refused.
	small.Info.Heaps = d.Info.Heaps
	small.Info.MaxMemoryAllocations = 3
	for i := range 3 {
		_, err := small.Alloc(1 << 20)
		if i < 2 && err != nil {
			t.Fatalf("block %d of 3: %v", i, err)
		}
		if i == 2 && !errors.Is(err, gpu.ErrOutOfDeviceMemory) {
			t.Errorf("block over maxMemoryAllocationCount: err = %v, want ErrOutOfDeviceMemory", err)
		}
	}
	small.Close()
	if msgs := small.Messages(); len(msgs) > 0 {
		t.Errorf("validation: %v", msgs)
	}
	d.InjectFault("vkAllocateMemory", vk.ErrorOutOfDeviceMemory)
	if _, err := d.Alloc(int64(d.MemoryStats().Reserved) + 1); !errors.Is(err, gpu.ErrOutOfDeviceMemory) {
		t.Errorf("driver out of memory: err = %v, want ErrOutOfDeviceMemory", err)
	}

	// Device lost during a run: the error says so, and the device refuses
	// further work instead of corrupting it.
	r = d.NewRecorder()
	r.Dispatch(saxpy, [3]uint32{1, 1, 1}, gpu.Push{}.U32(4).F32(1), x, y)
	p := finish(t, r)
	d.InjectFault("vkQueueSubmit", vk.ErrorDeviceLost)
	err = p.Run()
	if !errors.Is(err, gpu.ErrDeviceLost) {
		t.Fatalf("lost device: err = %v, want ErrDeviceLost", err)
	}
	t.Logf("device-lost error reads: %v", err)
	if err := p.Run(); !errors.Is(err, gpu.ErrDeviceLost) {
		t.Errorf("run after loss: err = %v, want ErrDeviceLost", err)
	}
	if _, err := d.Alloc(16); !errors.Is(err, gpu.ErrDeviceLost) {
		t.Errorf("alloc after loss: err = %v, want ErrDeviceLost", err)
	}
}

func TestProfile(t *testing.T) {
	d := open(t)
	fill, cp, _ := kernels(t, d)
	const n = 1 << 16
	a, b := alloc(t, d, n), alloc(t, d, n)
	r := d.NewRecorder().Profile()
	r.Dispatch(fill, d.Grid(fill, n), gpu.Push{}.U32(n).F32(1), a)
	r.Dispatch(cp, d.Grid(cp, n), gpu.Push{}.U32(n), a, b)
	p := finish(t, r)
	if _, err := p.Profile(); err == nil {
		t.Error("Profile before Run succeeded")
	}
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
	times, err := p.Profile()
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 2 || times[0].Label != "fill" || times[1].Label != "copy" || !times[1].Barrier {
		t.Fatalf("profile = %+v", times)
	}
	for _, x := range times {
		if x.Time <= 0 {
			t.Errorf("%s took %v", x.Label, x.Time)
		}
	}
	if total, err := p.GPUTime(); err != nil || total != times[0].Time+times[1].Time {
		t.Errorf("GPUTime = %v, %v; want the operations' %v", total, err, times[0].Time+times[1].Time)
	}
}

func TestKernelCache(t *testing.T) {
	d := open(t)
	a, _, _ := kernels(t, d)
	b, _, _ := kernels(t, d)
	if a != b {
		t.Error("same spec gave two pipelines")
	}
	c, err := d.Kernel(gpu.KernelSpec{Name: "fill", SPIRV: shaders.SPIRV("fill"), Bindings: []gpu.Access{gpu.Write}, PushBytes: 8, Spec: []uint32{32}})
	if err != nil {
		t.Fatal(err)
	}
	if c == a || c.LocalSize()[0] != 32 {
		t.Errorf("other specialization constants: cached %v, local size %v", c == a, c.LocalSize())
	}
	if _, err := d.Kernel(gpu.KernelSpec{Name: "bad", SPIRV: []byte{1, 2, 3}}); err == nil {
		t.Error("truncated SPIR-V accepted")
	}
	if _, err := d.Kernel(gpu.KernelSpec{Name: "huge", SPIRV: shaders.SPIRV("fill"), Bindings: []gpu.Access{gpu.Write}, PushBytes: 8,
		Spec: []uint32{d.Info.MaxWorkgroupInvocations + 1}}); err == nil {
		t.Error("workgroup over the device limit accepted")
	}
}

func TestChoose(t *testing.T) {
	infos := func(types ...gpu.DeviceType) []gpu.Info {
		var out []gpu.Info
		for i, ty := range types {
			out = append(out, gpu.Info{Index: i, Name: fmt.Sprintf("dev %s %d", ty, i), Type: ty})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		infos []gpu.Info
		sel   string
		want  int
	}{
		{"cpu only", infos(gpu.TypeCPU), "", 0},
		{"discrete beats cpu", infos(gpu.TypeCPU, gpu.TypeDiscrete), "", 1},
		{"integrated beats virtual", infos(gpu.TypeVirtual, gpu.TypeIntegrated, gpu.TypeCPU), "", 1},
		{"index", infos(gpu.TypeCPU, gpu.TypeDiscrete), "0", 0},
		{"name substring", infos(gpu.TypeCPU, gpu.TypeDiscrete), "CPU", 0},
		{"bad index", infos(gpu.TypeCPU), "3", -1},
		{"no match", infos(gpu.TypeCPU), "radeon", -1},
		{"none", nil, "", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := gpu.Choose(gpu.MarkUsable(tc.infos), tc.sel)
			if got != tc.want || (tc.want < 0) != (err != nil) {
				t.Errorf("choose = %d, %v; want %d", got, err, tc.want)
			}
			if err != nil && !errors.Is(err, gpu.ErrNoDevice) {
				t.Errorf("error %v does not wrap ErrNoDevice", err)
			}
		})
	}
}

func TestDevices(t *testing.T) {
	infos, err := gpu.Devices(gpu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	selected := 0
	for _, in := range infos {
		if in.Selected {
			selected++
			if in.SubgroupSize == 0 || in.MaxStorageBufferRange == 0 || len(in.Heaps) == 0 || in.DriverName == "" {
				t.Errorf("selected device lacks facts: %+v", in)
			}
		}
	}
	if selected != 1 {
		t.Errorf("%d devices selected, want 1", selected)
	}
}

// checkLayout verifies that live buffers are aligned and do not overlap,
// using the layout the package exposes to tests.
func checkLayout(bufs []*gpu.Buffer, align uint64) error {
	type rng struct{ blk, lo, hi uint64 }
	var rs []rng
	for _, b := range bufs {
		blk, off, size := gpu.Placement(b)
		if off%align != 0 {
			return fmt.Errorf("buffer at offset %d not aligned to %d", off, align)
		}
		for _, r := range rs {
			if r.blk == blk && off < r.hi && r.lo < off+size {
				return fmt.Errorf("buffers [%d,%d) and [%d,%d) overlap in block %d", off, off+size, r.lo, r.hi, blk)
			}
		}
		rs = append(rs, rng{blk, off, off + size})
	}
	return nil
}

// TestValidationCollector proves that validation messages reach
// Device.Messages, so the zero-message checks elsewhere can fail.
func TestValidationCollector(t *testing.T) {
	d, err := gpu.Open(gpu.Options{Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	gpu.TriggerValidationError(d)
	msgs := d.Messages()
	if len(msgs) == 0 {
		t.Fatal("an invalid vkCreateBuffer produced no validation message")
	}
	if msgs[0].Severity != "error" || msgs[0].ID == "" {
		t.Errorf("message = %+v", msgs[0])
	}
}

// TestSplitSubmits: a program longer than MaxOpsPerSubmit runs as several
// submissions and computes what one submission does, replay after replay.
func TestSplitSubmits(t *testing.T) {
	d := open(t)
	_, _, saxpy := kernels(t, d)
	const n, chain = 129, 20
	for _, per := range []int{0, 3, 7, chain} {
		d.MaxOpsPerSubmit = per
		x, y := alloc(t, d, n), alloc(t, d, n)
		xs := make([]float32, n)
		for i := range xs {
			xs[i] = float32(i%5 + 1)
		}
		write(t, x, xs)
		// y += x, then x += y, alternately: every dispatch reads the
		// previous one's result, across submission boundaries too.
		r := d.NewRecorder()
		for k := range chain {
			a, b := x, y
			if k%2 == 1 {
				a, b = y, x
			}
			r.Dispatch(saxpy, d.Grid(saxpy, n), gpu.Push{}.U32(n).F32(1), a, b)
		}
		p := finish(t, r)
		want := 1
		if per > 0 {
			want = (chain + per - 1) / per
		}
		if p.Submits() != want {
			t.Errorf("per %d: %d submissions, want %d", per, p.Submits(), want)
		}
		for run := 1; run <= 2; run++ {
			if err := p.Run(); err != nil {
				t.Fatal(err)
			}
		}
		// The host model of the same two runs.
		// float32 like the shader; a*x with a = 1 is exact, so fused or
		// not the sums round the same.
		hx, hy := make([]float32, n), make([]float32, n)
		copy(hx, xs)
		for run := 1; run <= 2; run++ {
			for k := range chain {
				for i := range hx {
					if k%2 == 0 {
						hy[i] += hx[i]
					} else {
						hx[i] += hy[i]
					}
				}
			}
		}
		got := make([]float32, n)
		if err := x.ReadFloat32(0, got); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != hx[i] {
				t.Fatalf("per %d: x[%d] = %v, want %v", per, i, got[i], hx[i])
			}
		}
	}
}

// TestTexelBindings: a kernel reads a binding declared ReadTexels through
// a vec4 texel view, whole buffers and views of an arena alike, sizes
// that end inside a texel included; views of one buffer get their own
// texel views, and a program that reads the same range twice makes one.
func TestTexelBindings(t *testing.T) {
	d := open(t)
	cp, err := d.Kernel(gpu.KernelSpec{Name: "copy_texel", SPIRV: shaders.SPIRV("copy_texel"),
		Bindings: []gpu.Access{gpu.ReadTexels, gpu.Write}, PushBytes: 4, Spec: []uint32{local}})
	if err != nil {
		t.Fatal(err)
	}
	align := int64(d.MemoryStats().Alignment)
	arena := alloc(t, d, int(3*align+4096))
	src := make([]float32, arena.Size()/4)
	for i := range src {
		src[i] = float32(i) + 0.5
	}
	write(t, arena, src)
	for _, c := range []struct{ off, n int }{{0, 1}, {0, 1001}, {int(align), 6}, {int(2 * align), 1023}} {
		x, err := arena.View(int64(c.off), int64(4*c.n))
		if err != nil {
			t.Fatal(err)
		}
		if !x.TexelBindable() {
			t.Skipf("a view at offset %d cannot be bound as texels on %s", c.off, d.Info.Name)
		}
		y := alloc(t, d, c.n)
		r := d.NewRecorder()
		r.Dispatch(cp, d.Grid(cp, c.n), gpu.Push{}.U32(uint32(c.n)), x, y)
		r.Dispatch(cp, d.Grid(cp, c.n), gpu.Push{}.U32(uint32(c.n)), x, y)
		p := finish(t, r)
		if err := p.Run(); err != nil {
			t.Fatal(err)
		}
		for i, v := range read(t, y) {
			if want := src[c.off/4+i]; v != want {
				t.Fatalf("view at %d of %d floats: y[%d] = %v, want %v", c.off, c.n, i, v, want)
			}
		}
		if got := p.TexelViews(); got != 1 {
			t.Errorf("view at %d of %d floats, read twice: %d texel views, want 1", c.off, c.n, got)
		}
	}
}
