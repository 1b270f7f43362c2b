package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
)

// The unpickler: the subset of Python's pickle protocols 2 to 5 that
// torch.save writes (it pickles with protocol 2; a few protocol 4 opcodes
// are read too). Values become Go values: None nil, bool, int64 (or
// *big.Int beyond 64 bits), float64, string, []byte, *list, tuple,
// *pdict, global (a class or function named by GLOBAL), and whatever the
// callbacks make of calls (REDUCE, NEWOBJ) and persistent ids.

type (
	tuple []any
	list  struct{ items []any }
	// pdict keeps insertion order, as state dicts (OrderedDict) do.
	pdict struct {
		keys []any
		vals map[any]any
	}
	global struct{ module, name string }
	// object is the result of a call the reader does not interpret.
	object struct {
		class global
		args  tuple
	}
)

func newDict() *pdict { return &pdict{vals: map[any]any{}} }

func (d *pdict) set(k, v any) error {
	switch k.(type) {
	case string, int64, bool, nil, float64:
	default:
		return fmt.Errorf("a dict key of type %T", k)
	}
	if _, ok := d.vals[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.vals[k] = v
	return nil
}

// unpickler reads one pickle. call handles REDUCE and NEWOBJ of a global;
// persistent handles a persistent id.
type unpickler struct {
	r          *bufio.Reader
	stack      []any
	marks      []int
	memo       map[int]any
	call       func(fn global, args tuple) (any, error)
	persistent func(pid any) (any, error)
}

// mark is a stack entry standing for MARK.
type mark struct{}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop() (any, error) {
	if len(u.stack) == 0 {
		return nil, errors.New("stack underflow")
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

// popMark pops everything down to the last MARK.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, errors.New("no MARK")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

func (u *unpickler) bytes(n int) ([]byte, error) {
	if n < 0 || n > 1<<31 {
		return nil, fmt.Errorf("a length of %d", n)
	}
	b := make([]byte, n)
	_, err := io.ReadFull(u.r, b)
	return b, err
}

func (u *unpickler) uint(n int) (uint64, error) {
	b, err := u.bytes(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

func (u *unpickler) line() (string, error) {
	s, err := u.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return s[:len(s)-1], nil
}

// load reads one pickle from r, up to its STOP.
func (u *unpickler) load() (any, error) {
	u.stack, u.marks = nil, nil
	if u.memo == nil {
		u.memo = map[int]any{}
	}
	for {
		op, err := u.r.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("pickle ends before STOP: %w", err)
		}
		if err := u.step(op); err != nil {
			if errors.Is(err, errStop) {
				return u.pop()
			}
			return nil, fmt.Errorf("pickle opcode %q: %w", op, err)
		}
	}
}

var errStop = errors.New("STOP")

func (u *unpickler) step(op byte) error {
	switch op {
	case 0x80: // PROTO
		v, err := u.uint(1)
		if err == nil && v > 5 {
			err = fmt.Errorf("protocol %d", v)
		}
		return err
	case 0x95: // FRAME: a length, then the frame's opcodes inline
		_, err := u.uint(8)
		return err
	case '.':
		return errStop
	case '(':
		u.marks = append(u.marks, len(u.stack))
	case 'N':
		u.push(nil)
	case 0x88:
		u.push(true)
	case 0x89:
		u.push(false)
	case 'J':
		v, err := u.uint(4)
		u.push(int64(int32(v)))
		return err
	case 'K':
		v, err := u.uint(1)
		u.push(int64(v))
		return err
	case 'M':
		v, err := u.uint(2)
		u.push(int64(v))
		return err
	case 0x8a, 0x8b: // LONG1, LONG4: little-endian two's complement
		n, err := u.uint(map[byte]int{0x8a: 1, 0x8b: 4}[op])
		if err != nil {
			return err
		}
		b, err := u.bytes(int(n))
		if err != nil {
			return err
		}
		u.push(longValue(b))
	case 'G':
		v, err := u.bytes(8)
		u.push(math.Float64frombits(binary.BigEndian.Uint64(v)))
		return err
	case 'U', 'T', 'X', 0x8c, 0x8d, 'B', 'C', 0x8e: // strings and bytes with a length
		n, err := u.uint(map[byte]int{'U': 1, 'T': 4, 'X': 4, 0x8c: 1, 0x8d: 8, 'B': 4, 'C': 1, 0x8e: 8}[op])
		if err != nil {
			return err
		}
		b, err := u.bytes(int(n))
		if err != nil {
			return err
		}
		if op == 'B' || op == 'C' || op == 0x8e {
			u.push(b)
		} else {
			u.push(string(b))
		}
	case ')':
		u.push(tuple{})
	case 't':
		items, err := u.popMark()
		u.push(tuple(items))
		return err
	case 0x85, 0x86, 0x87:
		n := int(op - 0x84)
		if len(u.stack) < n {
			return errors.New("stack underflow")
		}
		items := append(tuple(nil), u.stack[len(u.stack)-n:]...)
		u.stack = u.stack[:len(u.stack)-n]
		u.push(items)
	case ']':
		u.push(&list{})
	case 'l':
		items, err := u.popMark()
		u.push(&list{items: items})
		return err
	case 'a', 'e':
		var items []any
		var err error
		if op == 'a' {
			var v any
			v, err = u.pop()
			items = []any{v}
		} else {
			items, err = u.popMark()
		}
		if err != nil {
			return err
		}
		if len(u.stack) == 0 {
			return errors.New("APPEND without a list")
		}
		l, ok := u.stack[len(u.stack)-1].(*list)
		if !ok {
			return fmt.Errorf("APPEND to a %T", u.stack[len(u.stack)-1])
		}
		l.items = append(l.items, items...)
	case '}':
		u.push(newDict())
	case 'd', 's', 'u':
		var items []any
		var err error
		switch op {
		case 's':
			var k, v any
			if v, err = u.pop(); err == nil {
				k, err = u.pop()
			}
			items = []any{k, v}
		default:
			items, err = u.popMark()
		}
		if err != nil {
			return err
		}
		if len(items)%2 != 0 {
			return errors.New("an odd number of dict items")
		}
		var d *pdict
		if op == 'd' {
			d = newDict()
			u.push(d)
		} else {
			if len(u.stack) == 0 {
				return errors.New("SETITEM without a dict")
			}
			var ok bool
			if d, ok = u.stack[len(u.stack)-1].(*pdict); !ok {
				return fmt.Errorf("SETITEM on a %T", u.stack[len(u.stack)-1])
			}
		}
		for i := 0; i < len(items); i += 2 {
			if err := d.set(items[i], items[i+1]); err != nil {
				return err
			}
		}
	case 'q', 'r', 0x94: // BINPUT, LONG_BINPUT, MEMOIZE
		if len(u.stack) == 0 {
			return errors.New("PUT on an empty stack")
		}
		idx := len(u.memo)
		if op != 0x94 {
			v, err := u.uint(map[byte]int{'q': 1, 'r': 4}[op])
			if err != nil {
				return err
			}
			idx = int(v)
		}
		u.memo[idx] = u.stack[len(u.stack)-1]
	case 'h', 'j':
		v, err := u.uint(map[byte]int{'h': 1, 'j': 4}[op])
		if err != nil {
			return err
		}
		m, ok := u.memo[int(v)]
		if !ok {
			return fmt.Errorf("memo %d was never stored", v)
		}
		u.push(m)
	case 'c':
		module, err := u.line()
		if err != nil {
			return err
		}
		name, err := u.line()
		u.push(global{module, name})
		return err
	case 0x93: // STACK_GLOBAL
		n, err := u.pop()
		if err != nil {
			return err
		}
		m, err := u.pop()
		if err != nil {
			return err
		}
		ms, ok1 := m.(string)
		ns, ok2 := n.(string)
		if !ok1 || !ok2 {
			return errors.New("STACK_GLOBAL of non-strings")
		}
		u.push(global{ms, ns})
	case 'R', 0x81: // REDUCE, NEWOBJ: callable, args
		args, err := u.pop()
		if err != nil {
			return err
		}
		fn, err := u.pop()
		if err != nil {
			return err
		}
		g, ok1 := fn.(global)
		a, ok2 := args.(tuple)
		if !ok1 || !ok2 {
			return fmt.Errorf("a call of %T with %T", fn, args)
		}
		v, err := u.call(g, a)
		if err != nil {
			return err
		}
		u.push(v)
	case 'b': // BUILD: state set on an object; state dicts' _metadata, ignored
		_, err := u.pop()
		return err
	case 'Q': // BINPERSID
		pid, err := u.pop()
		if err != nil {
			return err
		}
		v, err := u.persistent(pid)
		if err != nil {
			return err
		}
		u.push(v)
	default:
		return errors.New("not supported (this reader knows what torch.save writes)")
	}
	return nil
}

// longValue is a little-endian two's complement integer: int64 when it
// fits.
func longValue(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	v := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if v.IsInt64() {
		return v.Int64()
	}
	return v
}
