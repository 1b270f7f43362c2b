package graph

import (
	"fmt"

	"github.com/noether-vk/noether-vk/gpu"
)

// MemoryPlan is the memory an executor holds for its program, for logs
// and for checking a program against the device before running it.
type MemoryPlan struct {
	// Peak is the planned peak of the intermediates: the bytes of the
	// arena in which they are placed by liveness.
	Peak int64
	// Buffers are the sizes of the device buffers the arena is cut into,
	// none larger than a binding may address, no tensor straddling two
	// (nil on the CPU).
	Buffers []int64
	// Other is the memory of the inputs, parameters, constants, the ops'
	// scratch and the optimiser's state.
	Other int64
	// Device is the device's memory (0 on the CPU: host memory).
	Device int64
}

// Total is all the memory the executor holds.
func (m MemoryPlan) Total() int64 { return m.Peak + m.Other }

// String reads "planned peak 704.0 MiB in 6 buffers, 3.1 MiB besides, of
// 2.0 GiB device memory".
func (m MemoryPlan) String() string {
	where := "in host memory"
	if m.Device > 0 {
		where = "of " + gpu.FormatBytes(m.Device) + " device memory"
	}
	bufs := ""
	if m.Buffers != nil {
		bufs = " in " + countBuffers(len(m.Buffers))
	}
	return fmt.Sprintf("planned peak %s%s, %s besides, %s", gpu.FormatBytes(m.Peak), bufs, gpu.FormatBytes(m.Other), where)
}

// countBuffers counts buffers in words: "1 buffer", "6 buffers".
func countBuffers(n int) string {
	if n == 1 {
		return "1 buffer"
	}
	return fmt.Sprintf("%d buffers", n)
}
