//! The normal distribution, as far as pacing needs it (here because it is
//! a dozen lines; a statistics crate would bring far more).

/// Standard normal density at `x`.
pub fn pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal distribution function at `x` (Zelen and Severo's
/// approximation, Abramowitz & Stegun 26.2.17: absolute error < 7.5e-8).
pub fn cdf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.231_641_9 * x.abs());
    let poly = t
        * (0.319_381_530
            + t * (-0.356_563_782
                + t * (1.781_477_937 + t * (-1.821_255_978 + t * 1.330_274_429))));
    let tail = pdf(x) * poly;
    if x >= 0.0 { 1.0 - tail } else { tail }
}

/// `E[max(X, 0)]` for `X` normal with `mean` and standard deviation `sd`
/// (`max(mean, 0)` when `sd` is 0).
pub fn expected_excess(mean: f64, sd: f64) -> f64 {
    if sd <= 0.0 {
        return mean.max(0.0);
    }
    let z = mean / sd;
    mean * cdf(z) + sd * pdf(z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert!((cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((cdf(1.96) - 0.975_002).abs() < 1e-6);
        assert!((cdf(-1.0) - 0.158_655).abs() < 1e-6);
        // E[max(Z, 0)] = 1/√(2π) for a standard normal.
        assert!((expected_excess(0.0, 1.0) - 0.398_942).abs() < 1e-6);
        assert_eq!(expected_excess(2.0, 0.0), 2.0);
        assert!(expected_excess(-10.0, 1.0) < 1e-20);
    }
}
