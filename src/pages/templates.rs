//! The register's pages, compiled into the binary by `maud`, which escapes every value it
//! writes (no `PreEscaped` here). No inline script or style: the one stylesheet is served by
//! [`super::stylesheet`], and colours inside the SVGs come from it through classes.

use chrono::NaiveDateTime;
use maud::{html, Markup, DOCTYPE};

use super::lookup::{CompanyHit, Found, LicenceLink, LicenceView, NumberHit};
use super::qr::QrSvg;
use crate::licences::LicenceStatus;
use crate::stats::{Counts, Statistics};

/// The status in words, the class that colours it, and what it means for the holder.
fn status_words(s: LicenceStatus) -> (&'static str, &'static str, &'static str) {
    match s {
        LicenceStatus::Active => {
            ("In force", "st-in-force", "This call centre is licensed and may operate.")
        }
        LicenceStatus::Provisional => (
            "Provisional",
            "st-provisional",
            "This call centre may operate while its sites await their pre-licence inspection.",
        ),
        LicenceStatus::Suspended => (
            "Suspended",
            "st-suspended",
            "This licence is suspended: the call centre may not operate under it.",
        ),
        LicenceStatus::Revoked => {
            ("Revoked", "st-revoked", "This licence was revoked: it no longer allows anything.")
        }
        LicenceStatus::Expired => {
            ("Expired", "st-ended", "This licence has expired: it no longer allows anything.")
        }
        LicenceStatus::Lapsed => (
            "Lapsed",
            "st-ended",
            "This provisional licence lapsed before its sites passed inspection.",
        ),
        LicenceStatus::Surrendered => (
            "Surrendered",
            "st-ended",
            "The holder gave this licence up: it no longer allows anything.",
        ),
    }
}

fn badge(s: LicenceStatus) -> Markup {
    let (words, class, _) = status_words(s);
    html! { span class={ "badge " (class) } { (words) } }
}

fn date(t: NaiveDateTime) -> Markup {
    html! { time datetime=(t.format("%Y-%m-%d")) { (t.format("%-d %B %Y")) } }
}

fn moment(t: NaiveDateTime) -> Markup {
    html! { time datetime=(t.format("%Y-%m-%dT%H:%M:%SZ")) { (t.format("%-d %B %Y, %H:%M UTC")) } }
}

/// "karachi" → "Karachi", "dera ismail khan" → "Dera Ismail Khan".
fn city_name(city: &str) -> String {
    city.split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
        })
        .collect::<Vec<String>>()
        .join(" ")
}

pub fn licence_path(number: &str) -> String {
    format!("/register/licences/{number}")
}

/// Every page's frame.
pub(crate) fn layout(title: &str, css: &str, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Call-centre licence register" }
                link rel="stylesheet" href=(css);
            }
            body {
                a class="skip" href="#main" { "Skip to the content" }
                header class="site" {
                    div class="wrap" {
                        a class="brand" href="/" { "Call-centre licence register" }
                        nav aria-label="Register" {
                            ul {
                                li { a href="/" { "Search" } }
                                li { a href="/register/stats" { "Statistics" } }
                            }
                        }
                    }
                }
                main id="main" class="wrap" { (main) }
                footer class="site" {
                    div class="wrap" {
                        p {
                            "The national register of licensed call centres. Every page shows the "
                            "register as it stood when the page was made. Developers: "
                            a href="/docs/" { "the API" } "."
                        }
                    }
                }
            }
        }
    }
}

fn search_form(q: &str) -> Markup {
    html! {
        form class="search" method="get" action="/" role="search" {
            label for="q" { "Licence number, company name, registration number or phone number" }
            p id="q-hint" class="hint" {
                "For example CCL-2026-000001-16, Karachi Contact Solutions, 0123456, "
                "+92 21 3456 7890 or 021 3456 7890."
            }
            div class="search-row" {
                input id="q" name="q" type="search" value=(q) maxlength="200"
                    autocomplete="off" aria-describedby="q-hint";
                button type="submit" { "Search" }
            }
        }
    }
}

/// `GET /`: the form, and what a search found.
pub fn search(css: &str, q: &str, found: Option<&Found>) -> Markup {
    let title = if q.is_empty() { "Search".to_string() } else { format!("Search: {q}") };
    layout(
        &title,
        css,
        html! {
            h1 { "Is this call centre licensed?" }
            p class="lead" {
                "Check a call centre against the national register: search by licence number, "
                "company name or registration number, or the phone number that called you."
            }
            (search_form(q))
            @if let Some(f) = found { (results(q, f)) }
        },
    )
}

fn results(q: &str, f: &Found) -> Markup {
    html! {
        section class="results" aria-labelledby="results-h" {
            h2 id="results-h" { "Results for “" (q) "”" }
            @for note in &f.notes { p class="note" { (note) } }
            @if let Some(n) = &f.number { (number_result(n)) }
            @if f.searched_companies { (company_results(f)) }
            @if f.number.is_none() && !f.searched_companies && f.notes.is_empty() {
                p { "Type at least two characters of a name." }
            }
        }
    }
}

fn number_result(n: &NumberHit) -> Markup {
    html! {
        div class="card" {
            h3 { "Phone number " (n.e164) }
            @if n.licensed {
                p { "This number is registered to a licensed call centre." }
            } @else {
                p class="warning" { strong { "No licensed call centre holds this number." } }
            }
            @if let Some(l) = &n.licence {
                p { "Registered to " (licence_line(l)) }
            }
        }
    }
}

fn licence_line(l: &LicenceLink) -> Markup {
    html! {
        a href=(licence_path(&l.number)) { (l.holder) ", licence " (l.number) } " " (badge(l.status))
    }
}

fn company_results(f: &Found) -> Markup {
    html! {
        @if f.companies.is_empty() {
            p { "No licensed or formerly licensed company matches." }
        } @else {
            p {
                (f.companies.len()) @if f.companies.len() == 1 { " company" } @else { " companies" }
                @if f.truncated { " (the first " (f.companies.len()) "; refine the search to see others)" }
                ":"
            }
            ul class="companies" {
                @for c in &f.companies { li { (company(c)) } }
            }
        }
    }
}

fn company(c: &CompanyHit) -> Markup {
    html! {
        span class="company" { (c.name) }
        " "
        span class="muted" { "registration number " (c.registration_number) }
        ul {
            @for l in &c.licences {
                li { a href=(licence_path(&l.number)) { "Licence " (l.number) } " " (badge(l.status)) }
            }
        }
    }
}

fn sites(v: &LicenceView) -> Markup {
    html! {
        @if v.sites.is_empty() {
            p { "No sites are recorded for this licence." }
        } @else {
            ul class="sites" {
                @for s in &v.sites {
                    li {
                        (s.name) ", " (s.city)
                        @if !s.open { " " span class="muted" { "(closed)" } }
                    }
                }
            }
        }
    }
}

fn facts(v: &LicenceView) -> Markup {
    html! {
        dl class="facts" {
            dt { "Licence number" } dd { (v.number) }
            dt { "Holder" } dd { (v.holder) }
            dt { "Status" } dd { (badge(v.status)) }
            dt { "Valid from" } dd { @if let Some(t) = v.valid_from { (date(t)) } @else { "—" } }
            dt { "Valid to" } dd { (date(v.expires_at)) }
            @if let (LicenceStatus::Provisional, Some(t)) = (v.status, v.provisional_until) {
                dt { "Provisional until" } dd { (date(t)) }
            }
        }
    }
}

/// `GET /register/licences/{n}`.
pub fn licence(css: &str, v: &LicenceView) -> Markup {
    let (words, class, meaning) = status_words(v.status);
    layout(
        &format!("Licence {}", v.number),
        css,
        html! {
            h1 { "Licence " (v.number) }
            div class={ "status " (class) } {
                p class="status-word" { "Status: " strong { (words) } }
                p { (meaning) }
            }
            (facts(v))
            h2 { "Sites" }
            (sites(v))
            p class="checked" { "Checked against the register at " (moment(v.checked_at)) "." }
            p class="no-print" {
                a href={ (licence_path(&v.number)) "/certificate" } { "Printable certificate" }
            }
        },
    )
}

/// `GET /register/licences/{n}/certificate`: one A4 page with a QR code of `url`.
pub fn certificate(css: &str, v: &LicenceView, url: &str, qr: &QrSvg) -> Markup {
    let (words, class, meaning) = status_words(v.status);
    let size = qr.size.to_string();
    layout(
        &format!("Certificate of licence {}", v.number),
        css,
        html! {
            article class="certificate" {
                p class="issuer" { "National Call-Centre Licensing Registry" }
                h1 { "Certificate of licence" }
                p { "This certifies that the company below was issued licence " strong { (v.number) } "." }
                (facts(v))
                h2 { "Sites" }
                (sites(v))
                div class="verify" {
                    svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (size) " " (size) }
                        role="img" aria-label={ "QR code of " (url) } data-url=(url)
                        shape-rendering="crispEdges" {
                        title { "QR code of " (url) }
                        rect class="qr-light" x="0" y="0" width=(size) height=(size) {}
                        path class="qr-dark" d=(qr.path) {}
                    }
                    div class={ "status " (class) } {
                        h2 { "Status when this page was made" }
                        p class="status-word" { strong { (words) } }
                        p { (meaning) }
                        p { "Checked at " (moment(v.checked_at)) "." }
                        p { "A printed status can change: scan the code or visit " span class="url" { (url) } " for the live register." }
                    }
                }
            }
            p class="no-print" { a href=(licence_path(&v.number)) { "Back to the status page" } }
        },
    )
}

const STATS_COLUMNS: [&str; 7] = [
    "Sites",
    "Licensed sites",
    "Suspended licences",
    "Revoked licences",
    "Inspections recorded",
    "Critical findings",
    "Reports of calls, last 30 days",
];

fn counts_cells(c: &Counts) -> Markup {
    html! {
        @for n in [c.sites, c.sites_licensed, c.licences_suspended, c.licences_revoked,
                   c.inspections_recorded, c.critical_findings, c.reports_30d] {
            td { (n) }
        }
    }
}

/// `GET /register/stats`.
pub fn stats(css: &str, s: &Statistics) -> Markup {
    layout(
        "Statistics",
        css,
        html! {
            h1 { "Call centres by city" }
            p { "Figures as of " (moment(s.as_of.naive_utc())) ". A licence with sites in two cities counts in both, and once in the national totals." }
            h2 { "Sites by city" }
            @if s.cities.is_empty() { p { "No sites are registered yet." } } @else { (chart(s)) }
            h2 { "All figures" }
            div class="table-scroll" role="region" aria-label="All figures by city" tabindex="0" {
                table {
                    caption { "Figures by city and for the country" }
                    thead { tr { th scope="col" { "City" } @for h in STATS_COLUMNS { th scope="col" { (h) } } } }
                    tbody {
                        @for c in &s.cities {
                            tr { th scope="row" { (city_name(&c.city)) } (counts_cells(&c.counts)) }
                        }
                    }
                    tfoot { tr { th scope="row" { "Pakistan" } (counts_cells(&s.national)) } }
                }
            }
        },
    )
}

/// One bar per city: registered sites, with the licensed ones drawn darker inside.
fn chart(s: &Statistics) -> Markup {
    const LABEL: i64 = 150;
    // Room after the longest bar for "12345 (12345 licensed)".
    const BAR: i64 = 320;
    const ROW: i64 = 30;
    const WIDTH: i64 = 660;
    let max = s.cities.iter().map(|c| c.counts.sites).max().unwrap_or(0).max(1);
    let scale = |n: i64| (n.max(0) * BAR / max).max(if n > 0 { 2 } else { 0 });
    let height = s.cities.len() as i64 * ROW + 10;
    let summary = s
        .cities
        .iter()
        .map(|c| {
            let sites = if c.counts.sites == 1 { "site" } else { "sites" };
            format!(
                "{}: {} {sites}, {} licensed",
                city_name(&c.city),
                c.counts.sites,
                c.counts.sites_licensed
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    html! {
        figure class="chart" {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (height) }
                role="img" aria-labelledby="chart-title chart-desc" {
                title id="chart-title" { "Registered and licensed sites by city" }
                desc id="chart-desc" { (summary) }
                @for (i, c) in s.cities.iter().enumerate() {
                    @let y = i as i64 * ROW + 5;
                    text class="bar-label" x="0" y=(y + 19) { (city_name(&c.city)) }
                    rect class="bar-all" x=(LABEL) y=(y + 4) width=(scale(c.counts.sites)) height="20" {}
                    rect class="bar-licensed" x=(LABEL) y=(y + 4) width=(scale(c.counts.sites_licensed)) height="20" {}
                    text class="bar-value" x=(LABEL + scale(c.counts.sites) + 6) y=(y + 19) {
                        (c.counts.sites) " (" (c.counts.sites_licensed) " licensed)"
                    }
                }
            }
            figcaption {
                span class="key key-licensed" {} " Licensed sites "
                span class="key key-all" {} " Other registered sites"
            }
        }
    }
}

/// An error page in the register's style.
pub fn error(css: &str, title: &str, detail: &str) -> Markup {
    layout(
        title,
        css,
        html! {
            h1 { (title) }
            p { (detail) }
            (search_form(""))
        },
    )
}
