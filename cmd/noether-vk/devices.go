package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/gpu/window"
	"github.com/noether-vk/noether-vk/graph/atomicfile"
)

func devicesCommand() *cli.Command {
	return &cli.Command{
		Name:  "devices",
		Usage: "list every Vulkan device with its driver, memory and compute limits; the one noether-vk would use is marked *",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "json", Usage: "also write the list as JSON to `FILE` (- for standard output)"},
		},
		Action: func(c *cli.Context) error {
			o, err := gpuOptions(c)
			if err != nil {
				return err
			}
			// A --device that matches nothing still lists what exists.
			infos, err := gpu.Devices(o)
			if len(infos) == 0 && err != nil {
				return fmt.Errorf("devices: %w", err)
			}
			if path := c.String("json"); path != "" {
				if werr := writeJSON(path, map[string]any{"devices": infos, "window": window.Probe()}); werr != nil {
					return werr
				}
			} else {
				printDevices(c.App.Writer, infos)
				printWindow(c.App.Writer, window.Probe())
			}
			if err != nil {
				return fmt.Errorf("devices: %w", err)
			}
			return nil
		},
	}
}

func printDevices(w io.Writer, infos []gpu.Info) {
	for _, in := range infos {
		mark := " "
		if in.Selected {
			mark = "*"
		}
		fmt.Fprintf(w, "%s %d: %s (%s)\n", mark, in.Index, in.Name, in.TypeName)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		row := func(k, format string, args ...any) {
			fmt.Fprintf(tw, "    %s\t"+format+"\n", append([]any{k}, args...)...)
		}
		driver := in.DriverName
		if in.DriverInfo != "" {
			driver += " (" + in.DriverInfo + ")"
		}
		row("driver", "%s, version %s", driver, in.DriverVersion)
		row("Vulkan API", "%s", in.APIVersion)
		row("vendor / device id", "0x%04x / 0x%04x", in.VendorID, in.DeviceID)
		for i, h := range in.Heaps {
			kind := "host"
			if h.DeviceLocal {
				kind = "device-local"
			}
			row(fmt.Sprintf("heap %d", i), "%s, %s", gpu.FormatBytes(int64(h.Size)), kind)
		}
		row("memory types", "%s", memoryTypes(in.MemoryTypes))
		if !in.HasCompute {
			row("compute queue", "none (unusable)")
			continue
		}
		row("compute queue", "family %d, %d timestamp bits (%.3g ns per tick)", in.QueueFamily, in.TimestampValidBits, in.TimestampPeriodNs)
		sg := fmt.Sprint(in.SubgroupSize)
		if r := in.SubgroupSizeRange; r[0] != r[1] {
			sg += fmt.Sprintf(" (range %d-%d)", r[0], r[1])
		}
		row("subgroup size", "%s; operations: %s", sg, strings.Join(in.SubgroupOperations, " "))
		row("max workgroup size", "%v, %d invocations", in.MaxWorkgroupSize, in.MaxWorkgroupInvocations)
		row("max workgroup count", "%v", in.MaxWorkgroupCount)
		row("shared memory", "%s", gpu.FormatBytes(int64(in.SharedMemory)))
		row("max storage buffer", "%s (binding offset alignment %d)", gpu.FormatBytes(int64(in.MaxStorageBufferRange)), in.MinStorageBufferAlign)
		row("push constants", "%d bytes", in.MaxPushConstants)
		row("float32 atomic add", "buffer %s, shared %s", yes(in.Float32AtomicAdd), yes(in.Float32AtomicAddShared))
		row("fp16 arithmetic", "%s; 16-bit storage %s", yes(in.ShaderFloat16), yes(in.StorageBuffer16Bit))
		row("fp64 / int64", "%s / %s", yes(in.ShaderFloat64), yes(in.ShaderInt64))
		tw.Flush()
	}
}

func printWindow(w io.Writer, p window.Presentation) {
	if p.Available {
		fmt.Fprintf(w, "live viewer: available (GLFW %s; surface extensions %s)\n", p.GLFW, strings.Join(p.InstanceExtensions, " "))
		return
	}
	fmt.Fprintf(w, "live viewer: unavailable: %s\n", p.Reason)
}

func memoryTypes(ts []gpu.MemoryType) string {
	var parts []string
	for i, t := range ts {
		var f []string
		for _, x := range []struct {
			on   bool
			name string
		}{{t.DeviceLocal, "device"}, {t.HostVisible, "visible"}, {t.HostCoherent, "coherent"}, {t.HostCached, "cached"}} {
			if x.on {
				f = append(f, x.name)
			}
		}
		parts = append(parts, fmt.Sprintf("%d:heap%d[%s]", i, t.Heap, strings.Join(f, ",")))
	}
	return strings.Join(parts, " ")
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// writeJSON writes v as indented JSON to path ("-" is standard output),
// atomically: a temporary file in the same folder, then a rename.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if path == "-" {
		_, err := os.Stdout.Write(data)
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
