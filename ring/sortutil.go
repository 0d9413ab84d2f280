package ring

import "slices"

// sortPairs sorts xs by less, which must be a strict total order (so the
// result does not depend on the sort's stability).
func sortPairs[T any](xs []T, less func(a, b T) bool) {
	slices.SortFunc(xs, func(a, b T) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	})
}
