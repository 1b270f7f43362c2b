// Command shaderc compiles every shaders/*.comp to SPIR-V with glslc.
//
//	go run ./tools/shaderc -dir shaders          # write shaders/NAME.spv
//	go run ./tools/shaderc -dir shaders -check   # fail when a committed .spv is stale
//
// With -check the sources are compiled into a temporary folder and compared
// byte for byte with the committed files, so CI catches a .comp edited
// without regenerating. Sources are compiled in parallel.
//
// A source may ask for extra builds with preprocessor defines, one line each:
//
//	// variant: NAME -DDEFINE[=VALUE] ...
//
// builds NAME.spv beside the plain build. Variants serve what
// specialization constants cannot switch: capabilities a device may lack.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// glslcFlags pin the output: Vulkan 1.1 environment (SPIR-V 1.3),
// optimised, no debug information, so the bytes depend only on the source
// and the compiler version.
var glslcFlags = []string{"--target-env=vulkan1.1", "-O"}

func main() {
	dir := flag.String("dir", "shaders", "folder holding the .comp sources")
	checkOnly := flag.Bool("check", false, "compile to a temporary folder and fail if any committed .spv differs")
	glslc := flag.String("glslc", "glslc", "the glslc executable")
	flag.Parse()
	if err := run(*dir, *glslc, *checkOnly); err != nil {
		fmt.Fprintln(os.Stderr, "shaderc:", err)
		os.Exit(1)
	}
}

func run(dir, glslc string, checkOnly bool) error {
	if _, err := exec.LookPath(glslc); err != nil {
		return fmt.Errorf("%s not found: install it with `make deps` (Debian package glslc)", glslc)
	}
	srcs, err := filepath.Glob(filepath.Join(dir, "*.comp"))
	if err != nil {
		return err
	}
	if len(srcs) == 0 {
		return fmt.Errorf("no .comp files in %s", dir)
	}
	sort.Strings(srcs)
	out := dir
	if checkOnly {
		tmp, err := os.MkdirTemp("", "shaderc-check-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		out = tmp
	}
	jobs, err := plan(srcs)
	if err != nil {
		return err
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = compile(glslc, dir, j.src, filepath.Join(out, j.spv), j.defines)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if !checkOnly {
		return removeOrphans(dir, jobs)
	}
	var stale []string
	for _, j := range jobs {
		want, err := os.ReadFile(filepath.Join(out, j.spv))
		if err != nil {
			return err
		}
		have, err := os.ReadFile(filepath.Join(dir, j.spv))
		if err != nil || !bytes.Equal(have, want) {
			stale = append(stale, filepath.Join(dir, j.spv))
		}
	}
	if len(stale) > 0 {
		return fmt.Errorf("committed SPIR-V is stale or missing: %s: run `make shaders` and commit the result", strings.Join(stale, ", "))
	}
	fmt.Printf("shaderc: %d shaders up to date\n", len(jobs))
	return nil
}

// job is one glslc run: a source, its output name and defines.
type job struct {
	src, spv string
	defines  []string
}

// plan lists the plain build of every source and the variants it asks for.
func plan(srcs []string) ([]job, error) {
	var jobs []job
	for _, src := range srcs {
		jobs = append(jobs, job{src: src, spv: spvName(src)})
		text, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(text), "\n") {
			rest, ok := strings.CutPrefix(strings.TrimSpace(line), "// variant:")
			if !ok {
				continue
			}
			f := strings.Fields(rest)
			if len(f) < 2 {
				return nil, fmt.Errorf("%s: variant line %q needs a name and at least one -D define", src, line)
			}
			for _, d := range f[1:] {
				if !strings.HasPrefix(d, "-D") {
					return nil, fmt.Errorf("%s: variant %s: %q is not a -D define", src, f[0], d)
				}
			}
			jobs = append(jobs, job{src: src, spv: f[0] + ".spv", defines: f[1:]})
		}
	}
	return jobs, nil
}

func spvName(src string) string { return strings.TrimSuffix(filepath.Base(src), ".comp") + ".spv" }

func compile(glslc, dir, src, dst string, defines []string) error {
	args := append(append(append([]string{}, glslcFlags...), defines...), "-I", dir, "-o", dst, src)
	var stderr bytes.Buffer
	cmd := exec.Command(glslc, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("compiling %s: %v\n%s", src, err, stderr.String())
	}
	return nil
}

// removeOrphans deletes .spv files whose source or variant is gone, so the
// embedded set matches the sources.
func removeOrphans(dir string, jobs []job) error {
	keep := map[string]bool{}
	for _, j := range jobs {
		keep[j.spv] = true
	}
	spvs, err := filepath.Glob(filepath.Join(dir, "*.spv"))
	if err != nil {
		return err
	}
	for _, f := range spvs {
		if !keep[filepath.Base(f)] {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	return nil
}
