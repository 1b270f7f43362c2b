package gradcam

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// decodeStruct reads into *dst (a struct of numbers, booleans, strings
// without spaces and nested such structs) the text fmt's %+v printed for
// it, as a run's settings record its data configuration
// (video.Config.Settings). The result must print back to exactly s, so a
// value that does not round-trip (a type printed by a String method, a
// field added or renamed since the run was made) is refused rather than
// misread.
func decodeStruct(s string, dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic("gradcam: decodeStruct needs a pointer to a struct")
	}
	rest, err := decodeFields(s, v.Elem())
	if err != nil {
		return err
	}
	if rest != "" {
		return fmt.Errorf("%q follows the settings", rest)
	}
	if back := fmt.Sprintf("%+v", v.Elem().Interface()); back != s {
		return fmt.Errorf("the settings %q read back as %q: written by another version of noether-vk?", s, back)
	}
	return nil
}

// decodeFields reads "{Name:value Name:{...} ...}" into the struct v and
// returns what follows the closing brace.
func decodeFields(s string, v reflect.Value) (string, error) {
	rest, ok := strings.CutPrefix(s, "{")
	if !ok {
		return "", fmt.Errorf("settings %q: want {Field:value ...}", s)
	}
	for {
		rest = strings.TrimPrefix(rest, " ")
		if after, ok := strings.CutPrefix(rest, "}"); ok {
			return after, nil
		}
		name, after, ok := strings.Cut(rest, ":")
		if !ok {
			return "", fmt.Errorf("settings: no value for %q", rest)
		}
		f := v.FieldByName(name)
		if !f.IsValid() || !f.CanSet() {
			return "", fmt.Errorf("settings: %s has no field %q", v.Type(), name)
		}
		if f.Kind() == reflect.Struct {
			var err error
			if rest, err = decodeFields(after, f); err != nil {
				return "", err
			}
			continue
		}
		end := strings.IndexAny(after, " }")
		if end < 0 {
			return "", fmt.Errorf("settings: the value of %s is not closed", name)
		}
		if err := setScalar(f, after[:end]); err != nil {
			return "", fmt.Errorf("settings: %s: %w", name, err)
		}
		rest = after[end:]
	}
}

// setScalar parses text into the number, boolean or string f.
func setScalar(f reflect.Value, text string) error {
	var err error
	switch f.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var n int64
		if n, err = strconv.ParseInt(text, 10, f.Type().Bits()); err == nil {
			f.SetInt(n)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var n uint64
		if n, err = strconv.ParseUint(text, 10, f.Type().Bits()); err == nil {
			f.SetUint(n)
		}
	case reflect.Float32, reflect.Float64:
		var x float64
		if x, err = strconv.ParseFloat(text, f.Type().Bits()); err == nil {
			f.SetFloat(x)
		}
	case reflect.Bool:
		var b bool
		if b, err = strconv.ParseBool(text); err == nil {
			f.SetBool(b)
		}
	case reflect.String:
		f.SetString(text)
	default:
		return fmt.Errorf("a %s cannot be read from settings", f.Type())
	}
	return err
}
