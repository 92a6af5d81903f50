//! Fast, correctly rounded parsing of the plain decimal numbers CSV files are mostly made
//! of, straight from the bytes of a line: `-?d+(.d+)?([eE][+-]?d+)?` with at most 19
//! significant digits and a decimal exponent in -27..=55 (after the fraction is counted).
//! Anything else (more digits, `inf`, `.5`, subnormals, huge exponents) returns `None`
//! and the caller parses that field the general way (`fast_float2`).
//!
//! Results are bit-identical to `fast_float2` (tested): Clinger's exact fast path when
//! the mantissa fits 53 bits and |q| ≤ 22, else the Eisel–Lemire algorithm as fast_float
//! implements it, with its 128-bit powers of five built once for the exponent range above.

use std::sync::OnceLock;

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

const MIN_Q: i64 = -27;
const MAX_Q: i64 = 55;

fn is_8digits(v: u64) -> bool {
    let a = v.wrapping_add(0x4646_4646_4646_4646);
    let b = v.wrapping_sub(0x3030_3030_3030_3030);
    (a | b) & 0x8080_8080_8080_8080 == 0
}

fn parse_8digits(mut v: u64) -> u64 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 0x000F_4240_0000_0064;
    const MUL2: u64 = 0x0000_2710_0000_0001;
    v = v.wrapping_sub(0x3030_3030_3030_3030);
    v = (v * 10) + (v >> 8);
    let v1 = (v & MASK).wrapping_mul(MUL1);
    let v2 = ((v >> 16) & MASK).wrapping_mul(MUL2);
    ((v1.wrapping_add(v2) >> 32) as u32) as u64
}

/// Reads digits from `s[*i..]` into `w`; returns how many.
#[inline(always)]
fn digits(s: &[u8], i: &mut usize, w: &mut u64) -> usize {
    let start = *i;
    while let Some(chunk) = s.get(*i..).and_then(|r| r.first_chunk::<8>()) {
        let v = u64::from_le_bytes(*chunk);
        if !is_8digits(v) {
            break;
        }
        *w = w.wrapping_mul(100_000_000).wrapping_add(parse_8digits(v));
        *i += 8;
    }
    while let Some(&c) = s.get(*i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        *w = w.wrapping_mul(10).wrapping_add(u64::from(d));
        *i += 1;
    }
    *i - start
}

/// `(value, bytes used)` of a number `-?d+(.d+)?([eE][+-]?d+)?` at the start of `s`, or
/// `None` when it is not of that form or needs the slow path.
#[inline]
pub(crate) fn parse_prefix(s: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let neg = s.first() == Some(&b'-');
    i += usize::from(neg);
    let mut w = 0u64;
    let int_start = i;
    let n_int = digits(s, &mut i, &mut w);
    if n_int == 0 {
        return None;
    }
    let mut n_frac = 0;
    if s.get(i) == Some(&b'.') {
        i += 1;
        n_frac = digits(s, &mut i, &mut w);
        if n_frac == 0 {
            return None;
        }
    }
    let mut exp = 0i64;
    if let Some(b'e' | b'E') = s.get(i) {
        i += 1;
        let eneg = match s.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let mut e = 0u64;
        let n = digits(s, &mut i, &mut e);
        if n == 0 || n > 4 {
            return None;
        }
        exp = if eneg { -(e as i64) } else { e as i64 };
    }
    let n_digits = n_int + n_frac;
    if n_digits > 19 {
        // Leading zeros do not count; anything longer needs the slow path.
        let zeros = s[int_start..i]
            .iter()
            .take_while(|&&c| c == b'0' || c == b'.')
            .filter(|&&c| c == b'0')
            .count();
        if n_digits - zeros > 19 {
            return None;
        }
    }
    let q = exp - n_frac as i64;
    let v = to_f64(w, q)?;
    Some((if neg { -v } else { v }, i))
}

#[inline]
fn to_f64(w: u64, q: i64) -> Option<f64> {
    if w == 0 {
        return Some(0.0);
    }
    if (-22..=22).contains(&q) && w <= 1 << 53 {
        let v = w as f64;
        return Some(if q < 0 {
            v / POW10[(-q) as usize]
        } else {
            v * POW10[q as usize]
        });
    }
    if !(MIN_Q..=MAX_Q).contains(&q) {
        return None;
    }
    eisel_lemire(q, w)
}

/// The normalised, truncated 128-bit powers of five 5^q for q in MIN_Q..=MAX_Q, as
/// (high, low) words, built as fast_float builds its table.
fn powers() -> &'static [(u64, u64)] {
    static TABLE: OnceLock<Vec<(u64, u64)>> = OnceLock::new();
    TABLE.get_or_init(|| (MIN_Q..=MAX_Q).map(|q| pow5_128(q as i32)).collect())
}

/// One table entry: 5^q for q ≥ 0, else ⌊2^b / 5^-q⌋ + 1 with b = bits(5^-q) + 127 (as
/// fast_float computes it), normalised to 128 bits and truncated.
fn pow5_128(q: i32) -> (u64, u64) {
    // Little-endian 64-bit limbs of the value, normalised at the end.
    let mut c: Vec<u64> = if q < 0 {
        let d = 5u64.pow((-q) as u32);
        let z = 64 - (d - 1).leading_zeros(); // smallest z with 2^z >= d
        let b = z + 127;
        let mut num = vec![0u64; (b / 64 + 1) as usize];
        num[(b / 64) as usize] = 1 << (b % 64);
        let mut quot = vec![0u64; num.len()];
        let mut rem: u128 = 0;
        for k in (0..num.len()).rev() {
            let cur = (rem << 64) | u128::from(num[k]);
            quot[k] = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
        // + 1
        for limb in quot.iter_mut() {
            let (v, carry) = limb.overflowing_add(1);
            *limb = v;
            if !carry {
                break;
            }
        }
        quot
    } else {
        let v = 5u128.pow(q as u32);
        vec![v as u64, (v >> 64) as u64]
    };
    while c.last() == Some(&0) && c.len() > 1 {
        c.pop();
    }
    let bits = (c.len() as u32 - 1) * 64 + (64 - c.last().map_or(64, |l| l.leading_zeros()));
    // Take the top 128 bits (truncating) or shift up to fill them.
    let mut big: u128;
    if bits > 128 {
        let shift = bits - 128;
        let mut acc = 0u128;
        for k in 0..128u32 {
            let bit = shift + k;
            let limb = c[(bit / 64) as usize];
            if limb >> (bit % 64) & 1 == 1 {
                acc |= 1u128 << k;
            }
        }
        big = acc;
    } else {
        big = 0;
        for (k, limb) in c.iter().enumerate() {
            big |= u128::from(*limb) << (64 * k);
        }
        big <<= 128 - bits;
    }
    ((big >> 64) as u64, big as u64)
}

/// Eisel–Lemire (as in fast_float's `compute_float` for f64) for q in MIN_Q..=MAX_Q.
fn eisel_lemire(q: i64, mut w: u64) -> Option<f64> {
    const MANTISSA_EXPLICIT_BITS: i32 = 52;
    const MINIMUM_EXPONENT: i32 = -1023;
    const INFINITE_POWER: i32 = 0x7FF;
    const MIN_EXPONENT_ROUND_TO_EVEN: i64 = -4;
    const MAX_EXPONENT_ROUND_TO_EVEN: i64 = 23;
    let lz = w.leading_zeros();
    w <<= lz;
    let (hi5, lo5) = *powers().get((q - MIN_Q) as usize)?;
    let precision = MANTISSA_EXPLICIT_BITS as u32 + 3;
    let mask = u64::MAX >> precision;
    let r = u128::from(w) * u128::from(hi5);
    let (mut lo, mut hi) = (r as u64, (r >> 64) as u64);
    if hi & mask == mask {
        let second_hi = ((u128::from(w) * u128::from(lo5)) >> 64) as u64;
        lo = lo.wrapping_add(second_hi);
        if second_hi > lo {
            hi += 1;
        }
    }
    // q is inside the safe exponent range, so lo == all-ones needs no extra check.
    let upperbit = (hi >> 63) as i32;
    let mut mantissa = hi >> (upperbit + 64 - MANTISSA_EXPLICIT_BITS - 3);
    let mut power2 = (((q as i32).wrapping_mul(152_170 + 65536)) >> 16) + 63 + upperbit
        - lz as i32
        - MINIMUM_EXPONENT;
    if power2 <= 0 {
        return None; // subnormal: slow path
    }
    if lo <= 1
        && (MIN_EXPONENT_ROUND_TO_EVEN..=MAX_EXPONENT_ROUND_TO_EVEN).contains(&q)
        && mantissa & 3 == 1
        && (mantissa << (upperbit + 64 - MANTISSA_EXPLICIT_BITS - 3)) == hi
    {
        mantissa &= !1u64;
    }
    mantissa += mantissa & 1;
    mantissa >>= 1;
    if mantissa >= (2u64 << MANTISSA_EXPLICIT_BITS) {
        mantissa = 1u64 << MANTISSA_EXPLICIT_BITS;
        power2 += 1;
    }
    mantissa &= !(1u64 << MANTISSA_EXPLICIT_BITS);
    if power2 >= INFINITE_POWER {
        return None;
    }
    Some(f64::from_bits(
        mantissa | (power2 as u64) << MANTISSA_EXPLICIT_BITS,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::parse_prefix;

    fn reference(s: &str) -> (u64, usize) {
        let (v, n): (f64, usize) = fast_float2::parse_partial(s).unwrap();
        (v.to_bits(), n)
    }

    #[test]
    fn agrees_bit_for_bit_with_fast_float2_or_declines() {
        for s in [
            "0",
            "-0",
            "1",
            "-1.5",
            "0.1",
            "1e22",
            "1e23",
            "9007199254740993",
            "9007199254740992.5",
            "1.6807178555193727",
            "-0.06681537867179599",
            "1234567890123456789",
            "0.000000000000000000001234",
            "00000000000000000001.5",
            "1.7976931348623157e3",
            "2.5E-10",
            "7e+5",
            "123.456e-7",
            "5e-27",
            "5e55",
            "1.00000000000000011102230246251565404236316680908203125",
        ] {
            if let Some((v, n)) = parse_prefix(s.as_bytes()) {
                assert_eq!((v.to_bits(), n), reference(s), "{s}");
            }
        }
        // Declined: the general parser takes these.
        for s in [
            "",
            "-",
            ".5",
            "1.",
            "+1",
            "inf",
            "NaN",
            "1e",
            "1e-",
            "12345678901234567890123",
            "1e400",
            "4.9e-324",
            "2.2250738585072014e-308",
            "1e99999",
        ] {
            assert!(parse_prefix(s.as_bytes()).is_none(), "{s}");
        }
        // The prefix stops at the first byte that is not part of the number.
        assert_eq!(parse_prefix(b"2.5,3"), Some((2.5, 3)));
        assert_eq!(parse_prefix(b"-7\r"), Some((-7.0, 2)));
    }

    /// Entries of fast_float's `POWER_OF_FIVE_128` (fast-float2 0.2.4, `src/table.rs`).
    #[test]
    fn powers_of_five_match_fast_floats_table() {
        for (q, want) in [
            (-27, (0x9e74_d1b7_91e0_7e48, 0x775e_a264_cf55_347e)),
            (-17, (0xb877_aa32_36a4_b449, 0x09be_feb9_fad4_87c3)),
            (-1, (0xcccc_cccc_cccc_cccc, 0xcccc_cccc_cccc_cccd)),
            (0, (0x8000_0000_0000_0000, 0)),
            (1, (0xa000_0000_0000_0000, 0)),
            (23, (0xa968_163f_0a57_b400, 0)),
            (55, (0xd0cf_4b50_cfe2_0765, 0xfff4_b4e3_f741_cf6d)),
        ] {
            assert_eq!(super::pow5_128(q), want, "5^{q}");
        }
        assert_eq!(
            super::powers().len(),
            (super::MAX_Q - super::MIN_Q + 1) as usize
        );
    }

    #[test]
    fn random_numbers_agree_with_fast_float2() {
        let mut st = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = move || {
            st ^= st << 13;
            st ^= st >> 7;
            st ^= st << 17;
            st
        };
        let mut fast = 0;
        for _ in 0..200_000 {
            let mut s = String::new();
            if rnd() % 2 == 0 {
                s.push('-');
            }
            for k in 0..1 + rnd() % 10 {
                let d = if k == 0 && rnd() % 3 == 0 {
                    0
                } else {
                    rnd() % 10
                };
                s.push(char::from(b'0' + d as u8));
            }
            if rnd() % 4 != 0 {
                s.push('.');
                for _ in 0..1 + rnd() % 20 {
                    s.push(char::from(b'0' + (rnd() % 10) as u8));
                }
            }
            if rnd() % 3 == 0 {
                s.push(if rnd() % 2 == 0 { 'e' } else { 'E' });
                if rnd() % 2 == 0 {
                    s.push('-');
                }
                s.push_str(&(rnd() % 60).to_string());
            }
            if let Some((v, n)) = parse_prefix(s.as_bytes()) {
                assert_eq!((v.to_bits(), n), reference(&s), "{s}");
                fast += 1;
            }
        }
        // Most of them take the fast path (the rest have too many digits or exponents).
        assert!(fast > 120_000, "{fast}");
    }
}
