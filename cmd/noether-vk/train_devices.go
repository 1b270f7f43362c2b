package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/kernels"
)

// devicesFlag is train's --devices: data-parallel training of the physics
// tasks over several Vulkan devices.
func devicesFlag() cli.Flag {
	return &cli.StringFlag{Name: "devices",
		Usage: "train data parallel on these Vulkan devices: indices or name substrings as --device takes, comma-separated (0,1); each trains on a slice of every batch, the first also evaluates; 0,0 opens device 0 twice, as two logical devices (how it is tested on one GPU or on lavapipe) (default: the one device --device chooses)",
		Action: func(c *cli.Context, list string) error {
			if isVideoTask(c.String("task")) {
				return usagef("train: --devices is for the physics tasks; --task %s trains on one device (--device)", c.String("task"))
			}
			_, err := parseDevices(list)
			return err
		}}
}

// parseDevices reads --devices: one selector per device, duplicates
// allowed (each opens a logical device of its own).
func parseDevices(list string) ([]string, error) {
	var sels []string
	for i, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, usagef("train: --devices %q: entry %d is empty; want indices or name substrings separated by commas, such as 0,1 (noether-vk devices lists them)", list, i+1)
		}
		sels = append(sels, s)
	}
	return sels, nil
}

// trainDevices are the devices a physics train runs on: the one the
// global --device chooses, or those --devices lists, in its order.
type trainDevices []*gpu.Device

// openTrainDevices opens the devices of --devices, once the run's batches
// are known to split over them, or else the one --device chooses. With
// --devices, --device (and NOETHER_VK_DEVICE) are not read.
func openTrainDevices(c *cli.Context, tr *trainRun) (trainDevices, error) {
	if !c.IsSet("devices") {
		d, err := openDevice(c, "train")
		if err != nil {
			return nil, err
		}
		return trainDevices{d}, nil
	}
	sels, err := parseDevices(c.String("devices"))
	if err != nil {
		return nil, err
	}
	if err := tr.cfg.CheckDevices(tr.data, len(sels), tr.methods...); err != nil {
		return nil, usageError{fmt.Errorf("train: %w", err)}
	}
	o, err := gpuOptions(c)
	if err != nil {
		return nil, err
	}
	if c.IsSet("device") {
		fmt.Fprintf(os.Stderr, "train: --devices %s chooses the devices; --device (or NOETHER_VK_DEVICE) %q is not used\n", c.String("devices"), o.Device)
	}
	var ds trainDevices
	for i, sel := range sels {
		o.Device = sel
		d, err := gpu.Open(o)
		if err != nil {
			ds.Close()
			return nil, fmt.Errorf("train: --devices entry %d (%q): %w", i+1, sel, err)
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// Close closes every device.
func (ds trainDevices) Close() {
	for _, d := range ds {
		d.Close()
	}
}

// backends are the devices as graph backends, one kernel set each.
func (ds trainDevices) backends() []graph.Backend {
	out := make([]graph.Backend, len(ds))
	for i, d := range ds {
		out[i] = graph.VulkanBackend{Kernels: kernels.NewVulkan(d)}
	}
	return out
}

// names are the devices as the manifest records them: "index: name" as
// noether-vk devices lists them.
func (ds trainDevices) names() []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = strconv.Itoa(d.Info.Index) + ": " + d.Info.Name
	}
	return out
}

// String is the devices as train's first line names them.
func (ds trainDevices) String() string {
	if len(ds) == 1 {
		return fmt.Sprintf("%s (%s)", ds[0].Info.Name, ds[0].Info.DriverName)
	}
	var each, twice []string
	opened := map[int]int{}
	for i, d := range ds {
		each = append(each, fmt.Sprintf("%d: %s (%s)", i, d.Info.Name, d.Info.DriverName))
		if opened[d.Info.Index]++; opened[d.Info.Index] == 2 {
			twice = append(twice, strconv.Itoa(d.Info.Index))
		}
	}
	s := fmt.Sprintf("%d devices, data parallel (device 0 evaluates): %s", len(ds), strings.Join(each, "; "))
	if len(twice) > 0 {
		s += fmt.Sprintf("; physical device %s opened more than once, as logical devices that share it", strings.Join(twice, ", "))
	}
	return s
}

// record writes the devices into the manifest's entry of this command.
func (ds trainDevices) record(r *runRecord) error {
	m := r.run.Manifest
	m.Commands[len(m.Commands)-1].Devices = ds.names()
	return r.run.Save()
}
