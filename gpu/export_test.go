package gpu

import vk "github.com/vulkan-go/vulkan"

// InjectFault makes the named Vulkan call return r instead of running
// ("vkQueueSubmit", "vkWaitForFences", "vkAllocateMemory").
func (d *Device) InjectFault(call string, r vk.Result) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.faults == nil {
		d.faults = map[string]vk.Result{}
	}
	d.faults[call] = r
}

// ForceStaging leaves new memory blocks unmapped so uploads and downloads
// take the staging path that real GPUs use for device-local memory.
func (d *Device) ForceStaging() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.mem.noMap = true
}

var Choose = choose

var ChoosePresenting = choosePresenting

// MarkUsable gives fake Infos what Usable checks, for tests of choose.
func MarkUsable(infos []Info) []Info {
	for i := range infos {
		infos[i].HasCompute = true
		infos[i].api = vk.MakeVersion(1, 1, 0)
	}
	return infos
}

// Placement reports the block id, offset and reserved size of b.
func Placement(b *Buffer) (blk, off, size uint64) { return uint64(b.blk.id), b.off, b.cap }

// TriggerValidationError makes an invalid call (a zero-sized buffer) so a
// test can prove the validation messages reach the collector.
func TriggerValidationError(d *Device) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var buf vk.Buffer
	if vk.CreateBuffer(d.dev, &vk.BufferCreateInfo{
		SType:       vk.StructureTypeBufferCreateInfo,
		Size:        0,
		Usage:       vk.BufferUsageFlags(vk.BufferUsageStorageBufferBit),
		SharingMode: vk.SharingModeExclusive,
	}, nil, &buf) == vk.Success {
		vk.DestroyBuffer(d.dev, buf, nil)
	}
}
