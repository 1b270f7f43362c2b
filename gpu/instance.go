package gpu

/*
#cgo CFLAGS: -O2 -std=gnu11
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "vkshim.h"
*/
import "C"

import (
	"fmt"
	"os"
	"runtime/cgo"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// Options configure how a device is opened. The zero value is usable;
// OptionsFromEnv fills it from the documented environment variables.
type Options struct {
	// Validate enables VK_LAYER_KHRONOS_validation and collects its
	// messages (Device.Messages). Env: NOETHER_VK_VALIDATE=1.
	Validate bool
	// SyncValidation adds the layer's synchronization validation.
	// Env: NOETHER_VK_VALIDATE=sync.
	SyncValidation bool
	// Device selects a device by index or by a case-insensitive
	// substring of its name. Empty: discrete > integrated > virtual > CPU.
	// Env: NOETHER_VK_DEVICE.
	Device string
	// SetLavapipeThreads makes Open set LP_NUM_THREADS (lavapipe's worker
	// threads) to LavapipeThreads before the Vulkan instance exists.
	// 0 runs every dispatch on the submitting thread: a dispatch costs a
	// few microseconds instead of tens, but large kernels run on one core.
	// Env: NOETHER_VK_LP_THREADS. Other drivers ignore it.
	SetLavapipeThreads bool
	LavapipeThreads    int
	// BlockSize is the size of the memory blocks the allocator carves
	// buffers from (0: 64 MiB, clamped to the device's limits).
	BlockSize int64
	// Present, when set, opens a device that can present to a window's
	// surface (see Presentation); nil opens a compute-only device.
	Present *Presentation
}

// OptionsFromEnv returns Options read from NOETHER_VK_VALIDATE,
// NOETHER_VK_DEVICE and NOETHER_VK_LP_THREADS.
func OptionsFromEnv() Options {
	var o Options
	switch v := strings.ToLower(os.Getenv("NOETHER_VK_VALIDATE")); v {
	case "", "0", "false", "no":
	case "sync":
		o.Validate, o.SyncValidation = true, true
	default:
		o.Validate = true
	}
	o.Device = os.Getenv("NOETHER_VK_DEVICE")
	if v, err := strconv.Atoi(os.Getenv("NOETHER_VK_LP_THREADS")); err == nil && v >= 0 {
		o.SetLavapipeThreads, o.LavapipeThreads = true, v
	}
	return o
}

var loader struct {
	once sync.Once
	gipa C.PFN_vkGetInstanceProcAddr
	err  error
}

// loadVulkan opens libvulkan.so.1 with dlopen, so that a binary built here
// runs wherever the runtime loader is installed and reports its absence
// as an error instead of failing to start.
func loadVulkan() (C.PFN_vkGetInstanceProcAddr, error) {
	loader.once.Do(func() {
		var buf [256]C.char
		p := C.nvk_load(&buf[0], C.int(len(buf)))
		if p == nil {
			loader.err = fmt.Errorf("gpu: loading libvulkan.so.1: %s: %w", C.GoString(&buf[0]), ErrNoLoader)
			return
		}
		loader.gipa = C.PFN_vkGetInstanceProcAddr(p)
		vk.SetGetInstanceProcAddr(p)
		if err := vk.Init(); err != nil {
			loader.err = fmt.Errorf("gpu: initialising vulkan-go: %v: %w", err, ErrNoLoader)
		}
	})
	return loader.gipa, loader.err
}

// Message is one validation-layer message.
type Message struct {
	Severity string // "warning" or "error"
	ID       string // the layer's message ID name (VUID)
	Text     string
}

func (m Message) String() string { return m.Severity + ": " + m.ID + ": " + m.Text }

type collector struct {
	mu   sync.Mutex
	msgs []Message
}

//export nvkGoMessage
func nvkGoMessage(handle C.uintptr_t, severity, types C.int, id, msg *C.char) C.int {
	c := cgo.Handle(handle).Value().(*collector)
	sev := "warning"
	if severity&C.VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT != 0 {
		sev = "error"
	}
	m := Message{Severity: sev, Text: C.GoString(msg)}
	if id != nil {
		m.ID = C.GoString(id)
	}
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
	return 0
}

// instance is a VkInstance with its optional validation messenger.
type instance struct {
	gipa      C.PFN_vkGetInstanceProcAddr
	inst      C.VkInstance
	api       uint32
	messenger C.VkDebugUtilsMessengerEXT
	handle    cgo.Handle
	msgs      *collector
	surface   C.VkSurfaceKHR // a Presentation's window surface, or nil
}

func newInstance(o Options) (*instance, error) {
	if o.SetLavapipeThreads {
		// lavapipe reads this when its device is created; it must be set first.
		os.Setenv("LP_NUM_THREADS", strconv.Itoa(o.LavapipeThreads))
	}
	gipa, err := loadVulkan()
	if err != nil {
		return nil, err
	}
	api := uint32(C.nvk_instance_version(gipa))
	if api < vk.MakeVersion(1, 1, 0) {
		return nil, fmt.Errorf("gpu: the Vulkan loader supports only API %s; noether-vk needs 1.1 or later: update libvulkan1: %w", versionString(api), ErrNoLoader)
	}
	if max := vk.MakeVersion(1, 3, 0); api > max {
		api = max
	}
	if o.Validate && !hasInstanceLayer("VK_LAYER_KHRONOS_validation") {
		return nil, fmt.Errorf("gpu: validation requested but VK_LAYER_KHRONOS_validation is not installed: install vulkan-validationlayers (make deps) or unset NOETHER_VK_VALIDATE")
	}
	portability := hasInstanceExtension("VK_KHR_portability_enumeration")
	extra, free, err := presentExtensions(o.Present)
	if err != nil {
		return nil, err
	}
	defer free()
	in := &instance{gipa: gipa, api: api}
	r := C.nvk_create_instance(gipa, C.uint32_t(api), cbool(o.Validate), cbool(o.SyncValidation), cbool(portability),
		ptrOr(extra), C.uint32_t(len(extra)), &in.inst)
	if err := check("vkCreateInstance", vk.Result(r)); err != nil {
		if vk.Result(r) == vk.ErrorIncompatibleDriver {
			return nil, fmt.Errorf("gpu: %w: %w", err, ErrNoDevice)
		}
		return nil, fmt.Errorf("gpu: %w", err)
	}
	if err := vk.InitInstance(in.vkInstance()); err != nil {
		in.close()
		return nil, fmt.Errorf("gpu: loading instance functions: %v", err)
	}
	if o.Validate {
		in.msgs = &collector{}
		in.handle = cgo.NewHandle(in.msgs)
		r := C.nvk_create_messenger(gipa, in.inst, C.uintptr_t(in.handle), &in.messenger)
		if err := check("vkCreateDebugUtilsMessengerEXT", vk.Result(r)); err != nil {
			in.close()
			return nil, fmt.Errorf("gpu: %w", err)
		}
	}
	return in, nil
}

func (in *instance) vkInstance() vk.Instance { return vk.Instance(unsafe.Pointer(in.inst)) }

func (in *instance) messages() []Message {
	if in.msgs == nil {
		return nil
	}
	in.msgs.mu.Lock()
	defer in.msgs.mu.Unlock()
	return append([]Message(nil), in.msgs.msgs...)
}

func (in *instance) close() {
	if in.surface != nil {
		C.nvk_destroy_surface(in.gipa, in.inst, in.surface)
		in.surface = nil
	}
	if in.messenger != nil {
		C.nvk_destroy_messenger(in.gipa, in.inst, in.messenger)
		in.messenger = nil
	}
	if in.inst != nil {
		vk.DestroyInstance(in.vkInstance(), nil)
		in.inst = nil
	}
	if in.msgs != nil {
		in.handle.Delete()
	}
}

// The enumerations go through vkshim.c into Go memory: vulkan-go's own,
// like every call of it that takes a slice of structs, pass the driver C
// memory that a finalizer may free while the driver writes it (a SIGSEGV
// inside the loader, now and then, in make test).

// vkList runs a Vulkan two-call enumeration: call with nil for the
// count, then into a slice of that many. It returns nil when either call
// fails (VK_INCOMPLETE, a list that grew in between, keeps what fitted).
func vkList[T any](call func(n *C.uint32_t, out *T) C.VkResult) []T {
	var n C.uint32_t
	if call(&n, nil) != C.VK_SUCCESS || n == 0 {
		return nil
	}
	out := make([]T, n)
	if r := call(&n, &out[0]); r != C.VK_SUCCESS && r != C.VK_INCOMPLETE {
		return nil
	}
	return out[:n]
}

// hasInstanceLayer reports whether the loader offers layer name.
func hasInstanceLayer(name string) bool {
	layers := vkList(func(n *C.uint32_t, out *C.VkLayerProperties) C.VkResult {
		return C.nvk_instance_layers(loader.gipa, n, out)
	})
	return slices.ContainsFunc(layers, func(l C.VkLayerProperties) bool { return C.GoString(&l.layerName[0]) == name })
}

// hasInstanceExtension reports whether the loader offers instance
// extension name.
func hasInstanceExtension(name string) bool {
	exts := vkList(func(n *C.uint32_t, out *C.VkExtensionProperties) C.VkResult {
		return C.nvk_instance_extensions(loader.gipa, n, out)
	})
	return slices.ContainsFunc(exts, func(e C.VkExtensionProperties) bool { return C.GoString(&e.extensionName[0]) == name })
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func cbool(b bool) C.uint32_t {
	if b {
		return 1
	}
	return 0
}

func versionString(v uint32) string {
	return fmt.Sprintf("%d.%d.%d", v>>22, (v>>12)&0x3ff, v&0xfff)
}
