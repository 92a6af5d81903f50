//! Multi-step forecasts from the filter's end state, with Gaussian prediction intervals
//! `mean ± z_{1−α/2} · √(forecast variance)`, and the normal quantile function they need
//! (Wichura's AS 241, accurate to about 1e-16).

// The AS 241 coefficients are kept exactly as published, for checking the transcription.
#![allow(clippy::excessive_precision)]

use super::statespace::StateSpace;
use mlpipe_core::Forecast;

/// Coefficients of AS 241 (Wichura 1988, Applied Statistics 37(3)), region |p − ½| ≤ 0.425.
const A: [f64; 8] = [
    3.387_132_872_796_366_608,
    1.331_416_678_917_843_774_5e2,
    1.971_590_950_306_551_442_7e3,
    1.373_169_376_550_946_112_5e4,
    4.592_195_393_154_987_145_7e4,
    6.726_577_092_700_870_085_3e4,
    3.343_057_558_358_812_810_5e4,
    2.509_080_928_730_122_672_7e3,
];
const B: [f64; 8] = [
    1.0,
    4.231_333_070_160_091_125_2e1,
    6.871_870_074_920_579_083e2,
    5.394_196_021_424_751_107_7e3,
    2.121_379_430_158_659_586_7e4,
    3.930_789_580_009_271_061e4,
    2.872_908_573_572_194_267_4e4,
    5.226_495_278_852_854_561e3,
];
/// Intermediate tail region.
const C: [f64; 8] = [
    1.423_437_110_749_683_577_34,
    4.630_337_846_156_545_295_9,
    5.769_497_221_460_691_405_5,
    3.647_848_324_763_204_605_04,
    1.270_458_252_452_368_382_58,
    2.417_807_251_774_506_117_7e-1,
    2.272_384_498_926_918_458_33e-2,
    7.745_450_142_783_414_076_4e-4,
];
const D: [f64; 8] = [
    1.0,
    2.053_191_626_637_758_821_87,
    1.676_384_830_183_803_849_4,
    6.897_673_349_851_000_045_5e-1,
    1.481_039_764_274_800_745_9e-1,
    1.519_866_656_361_645_719_66e-2,
    5.475_938_084_995_344_946e-4,
    1.050_750_071_644_416_843_24e-9,
];
/// Far tail region.
const E: [f64; 8] = [
    6.657_904_643_501_103_777_2,
    5.463_784_911_164_114_369_9,
    1.784_826_539_917_291_335_8,
    2.965_605_718_285_048_912_3e-1,
    2.653_218_952_657_612_309_3e-2,
    1.242_660_947_388_078_438_6e-3,
    2.711_555_568_743_487_578_15e-5,
    2.010_334_399_292_288_132_65e-7,
];
const F: [f64; 8] = [
    1.0,
    5.998_322_065_558_879_376_9e-1,
    1.369_298_809_227_358_053_1e-1,
    1.487_536_129_085_061_485_25e-2,
    7.868_691_311_456_132_591e-4,
    1.846_318_317_510_054_681_8e-5,
    1.421_511_758_316_445_888_7e-7,
    2.044_263_103_389_939_785_64e-15,
];

fn poly(c: &[f64; 8], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ci| acc * x + ci)
}

/// The standard normal quantile `Φ⁻¹(p)`; ±∞ at 0 and 1, NaN outside [0, 1].
pub fn normal_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    if tail <= 0.0 {
        return if q < 0.0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let r = (-tail.ln()).sqrt();
    let z = if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    };
    if q < 0.0 {
        -z
    } else {
        z
    }
}

/// Forecasts `h` steps from the predicted state `(a, p)` of the first out-of-sample
/// period; `intercept(k)` is the regression part of step `k` (0-based).
pub fn forecast_steps(
    ss: &StateSpace,
    a: &[f64],
    p: &[f64],
    h: usize,
    alpha: f64,
    intercept: impl Fn(usize) -> f64,
) -> Forecast {
    let z = normal_quantile(1.0 - alpha / 2.0);
    let m = ss.m;
    let mut a = a.to_vec();
    let mut p = p.to_vec();
    let mut a_next = vec![0.0; m];
    let mut p_next = vec![0.0; m * m];
    let mut tmp = vec![0.0; m * m];
    let mut out = Forecast {
        mean: Vec::with_capacity(h),
        lower: Vec::with_capacity(h),
        upper: Vec::with_capacity(h),
        level: 1.0 - alpha,
    };
    for k in 0..h {
        let mean = intercept(k) + ss.observe(&a);
        let half = z * ss.observe_var(&p).max(0.0).sqrt();
        out.mean.push(mean);
        out.lower.push(mean - half);
        out.upper.push(mean + half);
        if k + 1 < h {
            ss.predict_mean(&a, &mut a_next);
            std::mem::swap(&mut a, &mut a_next);
            ss.predict_cov(&p, &mut tmp, &mut p_next);
            std::mem::swap(&mut p, &mut p_next);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_is_symmetric_and_monotone() {
        for &p in &[1e-300, 1e-20, 1e-5, 0.01, 0.2, 0.45] {
            assert!(normal_quantile(p) < normal_quantile(p * 1.01));
        }
        for &p in &[0.01, 0.2, 0.45] {
            assert!((normal_quantile(p) + normal_quantile(1.0 - p)).abs() < 1e-12);
        }
        assert_eq!(normal_quantile(0.5), 0.0);
        assert!(normal_quantile(1.5).is_nan());
    }
}
