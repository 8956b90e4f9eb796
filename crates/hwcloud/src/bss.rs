//! BSS monthly bill summary (`GET /v2/bills/customer-bills/monthly-sum`), which the leak
//! response compares with a baseline to spot unexpected cost. BSS data lags by up to a
//! day, so it is a slow signal.

use reqwest::Method;
use serde::Deserialize;

use crate::client::Client;
use crate::error::Error;
use crate::lenient;
use crate::metrics::Service;
use crate::transport::ApiRequest;

/// Filters of `ShowCustomerMonthlySum`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthlySumQuery {
    /// Billing month `YYYY-MM`, in UTC+8 as BSS counts it.
    pub bill_cycle: String,
    /// Such as `hws.service.type.obs`.
    pub service_type_code: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub offset: Option<u32>,
    /// Page size (BSS default 10).
    pub limit: Option<u32>,
    /// `oneself`, `sub_customer` or `all`.
    pub method: Option<String>,
}

/// One summary row: a service and resource type in a month.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BillSum {
    #[serde(default)]
    pub bill_cycle: Option<String>,
    #[serde(default)]
    pub service_type_code: Option<String>,
    #[serde(default)]
    pub service_type_name: Option<String>,
    #[serde(default)]
    pub resource_type_code: Option<String>,
    #[serde(default)]
    pub resource_type_name: Option<String>,
    /// 1 yearly/monthly, 3 pay-per-use, 10 reserved.
    #[serde(default, deserialize_with = "lenient::integer")]
    pub charging_mode: Option<i64>,
    /// 1 consumption, 2 refund, 3 adjustment.
    #[serde(default, deserialize_with = "lenient::integer")]
    pub bill_type: Option<i64>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub consume_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub official_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub cash_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub debt_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub coupon_amount: Option<f64>,
    /// 1 means amounts are in whole currency units.
    #[serde(default, deserialize_with = "lenient::integer")]
    pub measure_id: Option<i64>,
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub account_name: Option<String>,
}

/// The month's totals and rows.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MonthlySummary {
    #[serde(default, deserialize_with = "lenient::integer")]
    pub total_count: Option<i64>,
    #[serde(default)]
    pub bill_sums: Vec<BillSum>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub consume_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub debt_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub coupon_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub cash_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::amount")]
    pub credit_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::integer")]
    pub measure_id: Option<i64>,
    /// Such as `CNY`.
    #[serde(default)]
    pub currency: Option<String>,
}

fn is_bill_cycle(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes[..4].iter().chain(&bytes[5..]).all(u8::is_ascii_digit)
        && matches!(&text[5..], "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12")
}

impl Client {
    /// Reads the bill summary of one month (`ShowCustomerMonthlySum`).
    pub async fn monthly_sum(&self, query: &MonthlySumQuery) -> Result<MonthlySummary, Error> {
        if !is_bill_cycle(&query.bill_cycle) {
            return Err(Error::Config {
                field: "bill_cycle",
                message: format!("{:?} is not a month; use YYYY-MM such as 2026-03", query.bill_cycle),
            });
        }
        let mut request = ApiRequest::new(
            Service::Bss,
            "ShowCustomerMonthlySum",
            Method::GET,
            &["v2", "bills", "customer-bills", "monthly-sum"],
        )
        .query("bill_cycle", query.bill_cycle.clone());
        let optional = [
            ("service_type_code", query.service_type_code.clone()),
            ("enterprise_project_id", query.enterprise_project_id.clone()),
            ("offset", query.offset.map(|v| v.to_string())),
            ("limit", query.limit.map(|v| v.to_string())),
            ("method", query.method.clone()),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                request = request.query(name, value);
            }
        }
        self.send_json(&request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bill_cycles_validated() {
        for (text, valid) in [("2026-03", true), ("2026-12", true), ("2026-13", false), ("2026-3", false), ("202603", false), ("abcd-01", false)] {
            assert_eq!(is_bill_cycle(text), valid, "{text}");
        }
    }

    #[test]
    fn summary_amounts_as_numbers_or_strings() {
        let body = r#"{"total_count":1,"bill_sums":[{"bill_cycle":"2026-03","service_type_code":"hws.service.type.ecs","charging_mode":"3","consume_amount":"12.50","official_amount":15.0,"bill_type":1,"measure_id":1}],"consume_amount":12.5,"debt_amount":0,"currency":"CNY","measure_id":1}"#;

        let summary: MonthlySummary = serde_json::from_str(body).unwrap();

        assert_eq!(summary.total_count, Some(1));
        assert_eq!(summary.bill_sums[0].consume_amount, Some(12.5));
        assert_eq!(summary.bill_sums[0].charging_mode, Some(3));
        assert_eq!(summary.consume_amount, Some(12.5));
        assert_eq!(summary.currency.as_deref(), Some("CNY"));
    }
}
