package phys101

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/noether-vk/noether-vk/svg/clips"
)

// Camera is the video file of each trial the reference uses.
const Camera = "Kinect_RGB_1.mp4"

// OrderSeed seeds the shuffle of the clips when no order file is given:
// the reference's seed, though not its shuffle (see the package
// documentation).
const OrderSeed = 1612

// findRamp returns the folder of the ramp scenario under root: root
// itself when it is that folder, else root/phys101/scenarios/ramp,
// root/scenarios/ramp or root/ramp.
func findRamp(root string) (string, error) {
	st, err := os.Stat(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("phys101: the data folder %s does not exist: give the folder Physics 101 was extracted into (it holds phys101/scenarios/ramp)", root)
	case err != nil:
		return "", fmt.Errorf("phys101: the data folder: %w", err)
	case !st.IsDir():
		return "", fmt.Errorf("phys101: the data folder %s is a file, not a folder", root)
	}
	candidates := []string{
		filepath.Join(root, "phys101", "scenarios", "ramp"),
		filepath.Join(root, "scenarios", "ramp"),
		filepath.Join(root, "ramp"),
	}
	if filepath.Base(filepath.Clean(root)) == "ramp" {
		candidates = append([]string{root}, candidates...)
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("phys101: no ramp scenario under %s: want %s/phys101/scenarios/ramp/<object>/20_01/<trial>/%s (extract Physics 101's archive there)",
		root, root, Camera)
}

// listClips returns the 20-degree clips under the ramp folder, as paths
// relative to it (<object>/20_0x/<trial>/Kinect_RGB_1.mp4), sorted. Other
// angles (10_01, ...) are not the paper's data and are left out.
func listClips(ramp string) ([]string, error) {
	var out []string
	objects, err := os.ReadDir(ramp)
	if err != nil {
		return nil, fmt.Errorf("phys101: listing %s: %w", ramp, err)
	}
	for _, o := range objects {
		if !o.IsDir() {
			continue
		}
		angles, err := os.ReadDir(filepath.Join(ramp, o.Name()))
		if err != nil {
			return nil, fmt.Errorf("phys101: listing %s: %w", ramp, err)
		}
		for _, a := range angles {
			if !a.IsDir() || !strings.HasPrefix(a.Name(), "20_") {
				continue
			}
			trials, err := os.ReadDir(filepath.Join(ramp, o.Name(), a.Name()))
			if err != nil {
				return nil, fmt.Errorf("phys101: listing %s: %w", ramp, err)
			}
			for _, tr := range trials {
				rel := filepath.ToSlash(filepath.Join(o.Name(), a.Name(), tr.Name(), Camera))
				if st, err := os.Stat(filepath.Join(ramp, rel)); tr.IsDir() && err == nil && st.Mode().IsRegular() {
					out = append(out, rel)
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("phys101: no 20-degree clip under %s: want <object>/20_01/<trial>/%s", ramp, Camera)
	}
	slices.Sort(out)
	return out, nil
}

// shuffled is our fixed order of the clips: sorted, then shuffled by
// Fisher-Yates with clips.RNG seeded by OrderSeed.
func shuffled(list []string) []string {
	out := make([]string, len(list))
	for i, j := range clips.NewRNG(OrderSeed, 0).Perm(len(list)) {
		out[i] = list[j]
	}
	return out
}

// orderPattern finds a clip's path in an order file, in whatever form it is
// written: the reference's ('./data/phys101/phys101/scenarios/ramp/
// p_block_10/20_01/05/Kinect_RGB_1.mp4') or relative to the ramp folder.
var orderPattern = regexp.MustCompile(`([A-Za-z0-9_.-]+/20_[0-9]+/[A-Za-z0-9_.-]+)/` + regexp.QuoteMeta(Camera))

// readOrder returns the clips an order file lists, in its order: every
// occurrence of <object>/20_xx/<trial>/Kinect_RGB_1.mp4 in the file, so the
// reference's data/phys101.py, whose ramp_20_seq_lengths is its
// pre-shuffled list, serves as it is. Each listed clip must be in the
// tree; clips of the tree the file does not list are left out.
func readOrder(path string, have []string) (order []string, unlisted int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("phys101: reading the order file: %w", err)
	}
	present := make(map[string]bool, len(have))
	for _, c := range have {
		present[c] = true
	}
	listed := map[string]bool{}
	var missing []string
	for _, m := range orderPattern.FindAllStringSubmatch(string(b), -1) {
		rel := m[1] + "/" + Camera
		if listed[rel] {
			continue
		}
		listed[rel] = true
		if !present[rel] {
			missing = append(missing, rel)
			continue
		}
		order = append(order, rel)
	}
	switch {
	case len(listed) == 0:
		return nil, 0, fmt.Errorf("phys101: the order file %s lists no clip (want lines holding <object>/20_01/<trial>/%s)", path, Camera)
	case len(missing) > 0:
		return nil, 0, fmt.Errorf("phys101: %d clips of the order file %s are not in the data folder, %s first: the split would not be the file's (complete the data, or give no order file)",
			len(missing), path, missing[0])
	}
	return order, len(have) - len(order), nil
}
