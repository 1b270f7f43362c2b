package gpu

import (
	"errors"
	"fmt"

	vk "github.com/vulkan-go/vulkan"
)

// Sentinel errors. Every error this package returns wraps one of these
// (or a *VkError) and names the call that failed, so callers can test with
// errors.Is and users read what to do.
var (
	// ErrNoLoader: the Vulkan loader library could not be opened.
	ErrNoLoader = errors.New("no Vulkan loader: install libvulkan1 and a driver such as mesa-vulkan-drivers (make deps does both)")
	// ErrNoDevice: the loader found no usable device, or the requested one does not exist.
	ErrNoDevice = errors.New("no Vulkan device with a compute queue: install a driver such as mesa-vulkan-drivers (lavapipe runs on any CPU), or check --device / NOETHER_VK_DEVICE")
	// ErrOutOfDeviceMemory: a heap is full or a request exceeds it.
	ErrOutOfDeviceMemory = errors.New("out of device memory: reduce the batch size or model, or choose a device with more memory (--device)")
	// ErrTooLarge: a single buffer exceeds what one storage-buffer binding may address or one allocation may hold.
	ErrTooLarge = errors.New("buffer larger than the device's maxStorageBufferRange or maxMemoryAllocationSize: split the tensor or reduce the batch size")
	// ErrDeviceLost: the driver lost the device (a hung or faulting kernel, a driver reset). The device must be reopened.
	ErrDeviceLost = errors.New("Vulkan device lost: the driver reset the device (a kernel ran too long or faulted); rerun with NOETHER_VK_VALIDATE=1 to look for misuse, and resume from the last checkpoint")
	// ErrClosed: the object was used after Close.
	ErrClosed = errors.New("gpu object used after Close")
)

// VkError is a failed Vulkan call with its VkResult.
type VkError struct {
	Call   string
	Result vk.Result
}

func (e *VkError) Error() string {
	msg := fmt.Sprintf("%s failed: %s (VkResult %d)", e.Call, resultName(e.Result), int32(e.Result))
	if hint := e.Unwrap(); hint != nil {
		msg += ": " + hint.Error()
	}
	return msg
}

// Unwrap maps the results users can act on to the package's sentinels.
func (e *VkError) Unwrap() error {
	switch e.Result {
	case vk.ErrorOutOfDeviceMemory:
		return ErrOutOfDeviceMemory
	case vk.ErrorDeviceLost:
		return ErrDeviceLost
	case vk.ErrorIncompatibleDriver:
		return ErrNoDevice
	}
	return nil
}

// check turns a VkResult into nil or a *VkError naming call.
func check(call string, r vk.Result) error {
	if r == vk.Success {
		return nil
	}
	return &VkError{Call: call, Result: r}
}

func resultName(r vk.Result) string {
	switch r {
	case vk.Success:
		return "VK_SUCCESS"
	case vk.NotReady:
		return "VK_NOT_READY"
	case vk.Timeout:
		return "VK_TIMEOUT"
	case vk.Incomplete:
		return "VK_INCOMPLETE"
	case vk.ErrorOutOfHostMemory:
		return "VK_ERROR_OUT_OF_HOST_MEMORY"
	case vk.ErrorOutOfDeviceMemory:
		return "VK_ERROR_OUT_OF_DEVICE_MEMORY"
	case vk.ErrorInitializationFailed:
		return "VK_ERROR_INITIALIZATION_FAILED"
	case vk.ErrorDeviceLost:
		return "VK_ERROR_DEVICE_LOST"
	case vk.ErrorMemoryMapFailed:
		return "VK_ERROR_MEMORY_MAP_FAILED"
	case vk.ErrorLayerNotPresent:
		return "VK_ERROR_LAYER_NOT_PRESENT"
	case vk.ErrorExtensionNotPresent:
		return "VK_ERROR_EXTENSION_NOT_PRESENT"
	case vk.ErrorFeatureNotPresent:
		return "VK_ERROR_FEATURE_NOT_PRESENT"
	case vk.ErrorIncompatibleDriver:
		return "VK_ERROR_INCOMPATIBLE_DRIVER"
	case vk.ErrorTooManyObjects:
		return "VK_ERROR_TOO_MANY_OBJECTS"
	case vk.ErrorFormatNotSupported:
		return "VK_ERROR_FORMAT_NOT_SUPPORTED"
	case vk.ErrorFragmentedPool:
		return "VK_ERROR_FRAGMENTED_POOL"
	case vk.ErrorOutOfPoolMemory:
		return "VK_ERROR_OUT_OF_POOL_MEMORY"
	}
	return "unnamed VkResult"
}
