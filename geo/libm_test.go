package geo

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

const refPrec = 300

// refSinCos returns sin x and cos x to 300 bits by their Taylor series
// (|x| <= 4 here, where 80 terms are far more than enough).
func refSinCos(x *big.Float) (sin, cos *big.Float) {
	x2 := new(big.Float).SetPrec(refPrec).Mul(x, x)
	sin, cos = new(big.Float).SetPrec(refPrec).Set(x), new(big.Float).SetPrec(refPrec).SetInt64(1)
	ts, tc := new(big.Float).SetPrec(refPrec).Set(x), new(big.Float).SetPrec(refPrec).SetInt64(1)
	for n := int64(1); n < 80; n++ {
		ts.Mul(ts, x2).Quo(ts, big.NewFloat(float64((2*n)*(2*n+1)))).Neg(ts)
		tc.Mul(tc, x2).Quo(tc, big.NewFloat(float64((2*n-1)*(2*n)))).Neg(tc)
		sin.Add(sin, ts)
		cos.Add(cos, tc)
	}
	return sin, cos
}

// refAsin returns asin y to about 300 bits: Newton's steps on sin t = y.
func refAsin(y float64) float64 {
	t := new(big.Float).SetPrec(refPrec).SetFloat64(math.Asin(y))
	Y := new(big.Float).SetPrec(refPrec).SetFloat64(y)
	for range 8 {
		s, c := refSinCos(t)
		s.Sub(s, Y).Quo(s, c)
		t.Sub(t, s)
	}
	f, _ := t.Float64()
	return f
}

// sin, cos and asin return the float64 nearest the exact value (the
// reference computed with 300-bit floats), over the arguments the distance
// and the bounding box give them.
func TestCorrectlyRounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		x := (rng.Float64()*2 - 1) * math.Pi
		if rng.IntN(4) == 0 {
			x *= math.Pow(2, -float64(rng.IntN(40)))
		}
		s, c := refSinCos(new(big.Float).SetPrec(refPrec).SetFloat64(x))
		ws, _ := s.Float64()
		wc, _ := c.Float64()
		if sin(x) != ws || cos(x) != wc {
			t.Fatalf("x=%v: sin %v cos %v, want %v %v", x, sin(x), cos(x), ws, wc)
		}
		y := rng.Float64()
		if rng.IntN(4) == 0 {
			y = 1 - y*math.Pow(2, -float64(rng.IntN(50))) // near 1, where asin is steep
		}
		if got, want := asin(y), refAsin(y); got != want {
			t.Fatalf("asin(%v) = %v, want %v", y, got, want)
		}
	}
	if asin(1) != math.Pi/2 || asin(0) != 0 {
		t.Fatal("asin at the ends")
	}
}

// FormatDistance rounds the scaled value, ties to even, as Redis 7 does,
// not the exact value as "%.4f" does.
func TestFormatDistance(t *testing.T) {
	for _, c := range []struct {
		d    float64
		want string
	}{
		{0, "0.0000"}, {0.00004, "0.0000"}, {0.00006, "0.0001"}, {0.5, "0.5000"}, {1, "1.0000"},
		{166274.15156960033, "166274.1516"}, {1725127.5316278 / 0.3048, "5659867.2298"},
	} {
		if got := FormatDistance(c.d); got != c.want {
			t.Fatalf("FormatDistance(%v) = %s, want %s", c.d, got, c.want)
		}
	}
}
