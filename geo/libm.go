package geo

import "math"

// Correctly rounded sine, cosine and arcsine.
//
// redis-server computes distances with the C library's sin, cos and asin,
// which on glibc return the float64 nearest the exact value (within about
// 0.55 ulp, almost always the nearest). Go's math.Sin, math.Cos and
// math.Asin are accurate to a few ulp and differ from glibc's in 15-35% of
// arguments (measured over 200,000 random ones), and a one-ulp difference
// in a distance changes GEODIST's fourth decimal whenever the distance
// lies near a rounding boundary (seen in the differential test: 5659867.
// 22974999994 ft against 5659867.22975). So the functions here compute in
// double-double arithmetic (about 100 bits) and round once to float64,
// which gives the nearest float64, as glibc does, except in the rare hard
// cases where the exact value lies within 2^-100 of a rounding boundary.

// dd is an unevaluated sum hi+lo with |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func quickTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func twoProd(a, b float64) dd {
	p := a * b
	return dd{p, math.FMA(a, b, -p)}
}

func (a dd) add(b dd) dd {
	s := twoSum(a.hi, b.hi)
	t := twoSum(a.lo, b.lo)
	s.lo += t.hi
	s = quickTwoSum(s.hi, s.lo)
	s.lo += t.lo
	return quickTwoSum(s.hi, s.lo)
}

func (a dd) neg() dd { return dd{-a.hi, -a.lo} }

func (a dd) mul(b dd) dd {
	p := twoProd(a.hi, b.hi)
	p.lo += a.hi*b.lo + a.lo*b.hi
	return quickTwoSum(p.hi, p.lo)
}

func (a dd) mulF(b float64) dd {
	p := twoProd(a.hi, b)
	p.lo += a.lo * b
	return quickTwoSum(p.hi, p.lo)
}

func (a dd) divF(b float64) dd {
	q1 := a.hi / b
	r := a.add(twoProd(q1, b).neg())
	q2 := r.hi / b
	r = r.add(twoProd(q2, b).neg())
	q3 := r.hi / b
	return dd{q1, 0}.add(dd{q2, 0}).add(dd{q3, 0})
}

func (a dd) float() float64 { return a.hi + a.lo }

// halfPi is π/2 to about 160 bits, in three float64 parts.
var halfPi = [3]float64{1.5707963267948966, 6.123233995736766e-17, -1.4973849048591698e-33}

// invFact[n] is 1/n! in double-double.
var invFact = func() [32]dd {
	var f [32]dd
	f[0] = dd{1, 0}
	for n := 1; n < len(f); n++ {
		f[n] = f[n-1].divF(float64(n))
	}
	return f
}()

// sinCosDD returns sin and cos of x (|x| up to a few π) in double-double:
// x is reduced by the nearest multiple k of π/2 to |r| <= π/4, where the
// Taylor series of both converge fast, and the quadrant picks the signs.
func sinCosDD(x dd) (sin, cos dd) {
	if !(math.Abs(x.hi) < 1e15) {
		// Beyond what the reduction handles (only absurd radii get
		// here): Go's own functions.
		return dd{math.Sin(x.hi), 0}, dd{math.Cos(x.hi), 0}
	}
	k := math.Round(x.hi / halfPi[0])
	r := x.add(twoProd(k, halfPi[0]).neg()).add(twoProd(k, halfPi[1]).neg()).add(dd{-k * halfPi[2], 0})
	r2 := r.mul(r)
	// sin r = r - r^3/3! + ..., cos r = 1 - r^2/2! + ..., summed from the
	// smallest term up.
	s, c := dd{}, dd{}
	for n := 29; n >= 1; n -= 2 {
		s = s.mul(r2)
		c = c.mul(r2)
		if (n/2)%2 == 0 {
			s = s.add(invFact[n])
			c = c.add(invFact[n-1])
		} else {
			s = s.add(invFact[n].neg())
			c = c.add(invFact[n-1].neg())
		}
	}
	s = s.mul(r)
	switch int64(k) & 3 {
	case 0:
		return s, c
	case 1:
		return c, s.neg()
	case 2:
		return s.neg(), c.neg()
	default:
		return c.neg(), s
	}
}

// sin returns the float64 nearest sin(x).
func sin(x float64) float64 {
	s, _ := sinCosDD(dd{x, 0})
	return s.float()
}

// cos returns the float64 nearest cos(x).
func cos(x float64) float64 {
	_, c := sinCosDD(dd{x, 0})
	return c.float()
}

// asin returns the float64 nearest asin(y) for 0 <= y <= 1 (the haversine
// only takes the arcsine of a square root): Go's estimate refined by
// Newton's steps t -= (sin t - y) / cos t in double-double. Each step
// doubles the correct bits; the third is for y near 1, where the slope of
// asin is steep and the first steps gain less.
func asin(y float64) float64 {
	if y >= 1 {
		return math.Pi / 2
	}
	if y <= 0 {
		return y // 0, or -0 kept
	}
	t := dd{math.Asin(y), 0}
	for range 3 {
		s, c := sinCosDD(t)
		t = t.add(s.add(dd{-y, 0}).neg().mul(dd{1 / c.hi, 0}))
	}
	return t.float()
}
