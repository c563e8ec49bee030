//! The share of a target after which a clock is "at risk" (75% by default), kept as an
//! exact fraction so that no floating point reaches the arithmetic: `0.7` means 7/10, not
//! the binary number nearest to it.

use std::fmt;

/// A fraction between 0 and 1 inclusive, in lowest terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RiskRatio {
    numerator: u32,
    denominator: u32,
}

/// Why a text or a fraction is not a usable at-risk ratio.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RiskRatioError {
    #[error("'{text}' is not a decimal number such as 0.75")]
    NotADecimal { text: String },
    #[error("'{text}' has more than 9 decimal places")]
    TooPrecise { text: String },
    #[error("{numerator}/{denominator} is not between 0 and 1")]
    OutOfRange { numerator: u64, denominator: u64 },
}

impl RiskRatio {
    pub const THREE_QUARTERS: RiskRatio = RiskRatio {
        numerator: 3,
        denominator: 4,
    };

    pub fn new(numerator: u32, denominator: u32) -> Result<RiskRatio, RiskRatioError> {
        if denominator == 0 || numerator > denominator {
            return Err(RiskRatioError::OutOfRange {
                numerator: u64::from(numerator),
                denominator: u64::from(denominator),
            });
        }
        let divisor = greatest_common_divisor(numerator, denominator);
        Ok(RiskRatio {
            numerator: numerator / divisor,
            denominator: denominator / divisor,
        })
    }

    /// Reads a plain decimal such as `0.75`, `.8` or `1`, exactly.
    pub fn parse_decimal(text: &str) -> Result<RiskRatio, RiskRatioError> {
        let not_a_decimal = || RiskRatioError::NotADecimal {
            text: text.to_owned(),
        };
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction)
        {
            return Err(not_a_decimal());
        }
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > 9 {
            return Err(RiskRatioError::TooPrecise {
                text: text.to_owned(),
            });
        }
        let denominator = 10_u64.pow(fraction.len() as u32);
        let whole: u64 = match whole.trim_start_matches('0') {
            "" => 0,
            digits if digits.len() > 2 => u64::MAX,
            digits => digits.parse().map_err(|_| not_a_decimal())?,
        };
        let fraction_value: u64 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().map_err(|_| not_a_decimal())?
        };
        let numerator = whole
            .saturating_mul(denominator)
            .saturating_add(fraction_value);
        if numerator > denominator {
            return Err(RiskRatioError::OutOfRange {
                numerator,
                denominator,
            });
        }
        RiskRatio::new(numerator as u32, denominator as u32)
    }

    pub fn numerator(self) -> u32 {
        self.numerator
    }

    pub fn denominator(self) -> u32 {
        self.denominator
    }

    /// Whether `counted_seconds` has consumed at least this share of `target_seconds`.
    pub fn is_reached(self, counted_seconds: i64, target_seconds: i64) -> bool {
        i128::from(counted_seconds) * i128::from(self.denominator)
            >= i128::from(target_seconds) * i128::from(self.numerator)
    }
}

impl Default for RiskRatio {
    fn default() -> Self {
        RiskRatio::THREE_QUARTERS
    }
}

impl fmt::Display for RiskRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

fn greatest_common_divisor(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_read_exactly_and_reduced() {
        assert_eq!(
            RiskRatio::parse_decimal("0.75"),
            Ok(RiskRatio::THREE_QUARTERS)
        );
        assert_eq!(
            RiskRatio::parse_decimal(".750"),
            Ok(RiskRatio::THREE_QUARTERS)
        );
        assert_eq!(RiskRatio::parse_decimal("0.7"), RiskRatio::new(7, 10));
        assert_eq!(RiskRatio::parse_decimal("1"), RiskRatio::new(1, 1));
        assert_eq!(RiskRatio::parse_decimal("0"), RiskRatio::new(0, 1));
    }

    #[test]
    fn bad_ratios_say_why() {
        assert_eq!(
            RiskRatio::parse_decimal("1.5"),
            Err(RiskRatioError::OutOfRange {
                numerator: 15,
                denominator: 10
            })
        );
        assert_eq!(
            RiskRatio::parse_decimal("-0.5"),
            Err(RiskRatioError::NotADecimal {
                text: "-0.5".into()
            })
        );
        assert_eq!(
            RiskRatio::parse_decimal("."),
            Err(RiskRatioError::NotADecimal { text: ".".into() })
        );
        assert!(matches!(
            RiskRatio::parse_decimal("0.1234567891"),
            Err(RiskRatioError::TooPrecise { .. })
        ));
    }

    #[test]
    fn three_quarters_of_four_hours_is_three_hours() {
        let ratio = RiskRatio::THREE_QUARTERS;
        assert!(!ratio.is_reached(10_799, 14_400));
        assert!(ratio.is_reached(10_800, 14_400));
    }
}
