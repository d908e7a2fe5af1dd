#' Simulated weekly marketing mix panel
#'
#' Weekly sales, media spend and controls for 8 markets over 104 weeks
#' (January 2023 to December 2024), simulated from a hierarchical marketing
#' mix model with known parameters: geometric adstock (normalized) and Hill
#' saturation of five channels, market-level intercepts and channel slopes,
#' price, promotions and yearly seasonality. Media explain about 30% of sales.
#' The true parameters are stored in the attribute `"truth"`, a named numeric
#' vector with brms-style names (`b_Intercept`, `b_tv`, ..., `sd_market__tv`,
#' `sigma`, `decay_tv`, `halfsat_tv`, `slope_tv`, ...); see [simulate_mmm()] for
#' the model.
#'
#' @format A data frame with 832 rows (8 markets x 104 weeks, ordered by market
#'   then week) and 13 columns:
#' \describe{
#'   \item{market}{Market, a factor with levels `"M01"` to `"M08"`.}
#'   \item{week}{Week number, integer 1 to 104.}
#'   \item{date}{First day (a Monday) of the week, Date, from 2023-01-02.}
#'   \item{sales}{Weekly sales of the market, thousands of dollars.}
#'   \item{tv}{TV spend, thousands of dollars: bursts of 3-6 weeks separated
#'     by weeks without spend.}
#'   \item{search}{Paid search spend, thousands of dollars: always on,
#'     following the seasonality of demand.}
#'   \item{social}{Social media spend, thousands of dollars: always on, noisy.}
#'   \item{display}{Display spend, thousands of dollars: 4-week campaigns every
#'     13 weeks over a small always-on base.}
#'   \item{email}{Email marketing spend, thousands of dollars: small and
#'     steady.}
#'   \item{price}{Price index, around 1 (about 5% lower in promotion weeks).}
#'   \item{promo}{Promotion indicator, integer 0/1.}
#'   \item{season_sin, season_cos}{Yearly seasonality terms,
#'     `sin(2 * pi * week / 52.18)` and `cos(2 * pi * week / 52.18)`.}
#' }
#' @source Simulated by `simulate_mmm(seed = 2024)`; the script
#'   `data-raw/mmm_weekly.R` in the package sources regenerates it.
#' @seealso [simulate_mmm()], which also returns the market-level effects and
#'   the true media contribution of each row.
#' @examples
#' str(mmm_weekly)
#' truth <- attr(mmm_weekly, "truth")
#' truth[c("b_tv", "decay_tv", "halfsat_tv", "slope_tv")]
#'
#' # weekly TV spend of one market
#' m1 <- mmm_weekly[mmm_weekly$market == "M01", ]
#' plot(m1$date, m1$tv, type = "h", xlab = "Week starting", ylab = "TV spend ($k)")
#'
#' # true adstocked and saturated TV, per market
#' ad <- adstock_geometric(mmm_weekly$tv, decay = truth[["decay_tv"]],
#'                         normalize = TRUE, group = mmm_weekly$market)
#' summary(saturation_hill(ad, truth[["halfsat_tv"]], truth[["slope_tv"]]))
"mmm_weekly"

#' Weekly revenue and media of a consumer brand (simulated case study)
#'
#' Three years of national weekly revenue of a consumer brand with the
#' structure of the budget-optimization case study that hbmmm's vignette
#' `vignette("budget-optimization")` reproduces: traditional media (TV,
#' out-of-home, radio, print) and digital media (online video, display,
#' social, search), a price index, distribution, trade promotions, competitor
#' media and seasonality with a Christmas peak. The case study's data were
#' proprietary; these are simulated with known truth.
#'
#' @format A data frame with 156 rows (weeks) and 16 columns:
#' \describe{
#'   \item{`week`}{Week number, 1-156.}
#'   \item{`date`}{Monday of the week (Date), from 2022-01-03.}
#'   \item{`revenue`}{Revenue, thousands of dollars.}
#'   \item{`tv`, `ooh`, `radio`, `print`, `video`, `display`, `social`, `search`}{Media
#'     spend, thousands of dollars per week.}
#'   \item{`price`}{Price index (1 = list price; lower in promotion weeks).}
#'   \item{`distribution`}{Share of stores carrying the brand.}
#'   \item{`promo`}{1 in weeks with a trade promotion.}
#'   \item{`competitor`}{Competitors' media activity (index).}
#'   \item{`christmas`}{1 in the weeks from 10 December on.}
#' }
#' Attribute `truth` holds the true parameters (`b_<channel>`, the maximum
#' weekly effect; `decay_`, `halfsat_`, `slope_` of each channel's geometric
#' adstock and Hill curve; the controls' coefficients and `sigma`), attribute
#' `roi` each channel's true ROI over the data.
#' @source Simulated by `simulate_brand(seed = 2025)`; the script
#'   `data-raw/brand_weekly.R` in the package sources regenerates it.
#' @seealso [simulate_brand()], which also returns each channel's true weekly
#'   contribution.
#' @examples
#' str(brand_weekly)
#' attr(brand_weekly, "roi")
"brand_weekly"

#' Simulated consumer panel of the personalization analysis
#'
#' Monthly purchases of 500 consumers in 20 markets over 24 months (January
#' 2021 to December 2022) with their exposures to TV, digital display, email
#' and social media, their characteristics and the market covariates: the
#' structure of the data of the personalization paper (individual-level
#' hierarchical Bayesian MMM with a personalization layer and propensity
#' weighting) that `vignette("personalization")` analyses. The paper's data
#' were proprietary (500,000 consumers in 50 markets); these are simulated
#' with known truth, the paper's Table 6 estimates (times 25 dollars, see
#' [simulate_consumer_panel()]) being the true parameters.
#'
#' @format A data frame with 12,000 rows (500 consumers x 24 months, ordered
#'   by market, consumer and month) and 19 columns:
#' \describe{
#'   \item{`market`}{Market, a factor with levels `"M01"` to `"M20"`.}
#'   \item{`individual`}{Consumer, a factor `"C00001"` to `"C00500"` (25 per
#'     market).}
#'   \item{`month`}{Month number, 1 to 24.}
#'   \item{`date`}{First day of the month, Date, from 2021-01-01.}
#'   \item{`purchase`}{Monthly purchase amount, dollars, net of returns (a
#'     few months are negative).}
#'   \item{`tv`, `digital`, `email`, `social`}{Monthly exposures: TV ad
#'     exposures, digital ad impressions, email opens, social media
#'     engagements (counts, with the paper's Table 5 means).}
#'   \item{`econ`}{Market economic index (standardized).}
#'   \item{`competitor`}{Competitors' activity in the market (standardized).}
#'   \item{`age`}{Age, years (18 to 80).}
#'   \item{`income`}{Income, thousands of dollars (20 to 250).}
#'   \item{`frequency`}{Purchases in the previous year.}
#'   \item{`age_z`, `income_z`, `frequency_z`}{The characteristics
#'     standardized over the 500 consumers (the personalization layer's
#'     \eqn{W_i}).}
#'   \item{`age_band`}{Factor `"18-34"`, `"35-54"`, `"55+"`.}
#'   \item{`targeted`}{1 if the consumer is in the CRM target segment (more
#'     email and retargeted digital), 0 otherwise; the paper's binary
#'     treatment, more likely for older, richer and more frequent buyers.}
#' }
#' The truth is stored in attributes: `"truth"`, the population parameters
#' under hbmmm's draw names (`b_Intercept`, `b_tv`, ..., `b_tv:age_z`, ...,
#' `sd_market__Intercept`, ..., `sd_individual__tv`, ..., `sigma`); `"ate"`,
#' the sample average effect of one exposure by channel (mean of the
#' consumers' true effects); `"consumers"`, one row per consumer with the
#' characteristics, `targeted`, the true `propensity` score, the baseline
#' `alpha` and the true individual effect of one exposure to each channel
#' (columns `tv`, `digital`, `email`, `social`).
#' @source Simulated by `simulate_consumer_panel(seed = 2021)`; the script
#'   `data-raw/personalized.R` in the package sources regenerates it.
#' @seealso [simulate_consumer_panel()] for the model and the generating
#'   [hbmmm()] call.
#' @examples
#' str(personalized[1:5])
#' attr(personalized, "ate")
#' head(attr(personalized, "consumers"))
"personalized"

#' Three-level individual panel with a targeted campaign (Ni et al., simulated)
#'
#' Weekly purchases of 384 consumers who buy one of 3 products in one of 4
#' markets, over 20 weeks, with the structure of the empirical application of
#' Ni et al. (2024) that `vignette("three-level-causal")` reproduces:
#' individuals nested in product-market units nested in markets, five media
#' channels with their spend, product and market characteristics, consumer
#' segments, and a campaign targeted at loyal, high-value consumers (so that
#' comparing targeted and other consumers overstates its effect). The paper's
#' data were proprietary; these are simulated with known truth by
#' [simulate_three_level_causal()], whose `size = "paper"` gives the paper's
#' dimensions (5 markets, 15 products, 156 weeks, about 1.24 million rows).
#'
#' @format A data frame with 7,680 rows (384 individuals x 20 weeks, ordered
#'   by market, product, individual and week) and 26 columns:
#' \describe{
#'   \item{`market`}{Market (country), factor `"M01"` to `"M04"`.}
#'   \item{`product`}{Product, factor `"P01"` to `"P03"` (the same products in
#'     every market).}
#'   \item{`individual`}{Consumer, factor `"I0001"` to `"I0384"`; each buys
#'     one product in one market.}
#'   \item{`week`, `date`}{Week number 1-20 and its Monday (from 2023-01-02).}
#'   \item{`sales`}{Weekly purchase amount of the consumer, dollars.}
#'   \item{`tv`, `display`, `social`, `email`, `direct_mail`}{Weekly exposure
#'     of the consumer to each channel, in the channel's units (TV and
#'     display impressions, social impressions, emails, mail pieces).}
#'   \item{`tv_spend`, `display_spend`, `social_spend`, `email_spend`,
#'     `direct_mail_spend`}{The spend behind that
#'     exposure, dollars: exposure times the channel's cost per unit
#'     (attribute `cost`).}
#'   \item{`price`}{List price of the product, dollars (product level).}
#'   \item{`purchasing_power`}{Purchasing-power index of the market, 100 =
#'     average (market level).}
#'   \item{`loyalty`}{Loyalty score, 1-10.}
#'   \item{`income`}{Income, thousands of dollars.}
#'   \item{`age`}{Age, years.}
#'   \item{`past_value`}{Average weekly purchases in the past year, dollars.}
#'   \item{`tenure`}{Months since the first purchase.}
#'   \item{`segment`}{Consumer segment, factor `"high"`, `"medium"`, `"low"`
#'     (thirds of `past_value`) and `"new"` (tenure under 6 months).}
#'   \item{`targeted`}{1 if the consumer was targeted by the campaign.}
#'   \item{`campaign`}{1 in the weeks the campaign ran (from week 11) for
#'     targeted consumers.}
#' }
#' The consumer characteristics are constant within a consumer.
#'
#' Attributes: `truth`, the population-level parameters of the generating
#' model under [hbmmm()]'s draw names (see [simulate_three_level_causal()]
#' for the model and the formula); `effects`, the effects a marketer reads
#' (`channel`: effect of one unit of exposure, population average;
#' `channel_segment`: the same by segment; `roi_segment`: incremental sales
#' per dollar by segment and channel; `campaign`: the campaign's `ATE`, `ATT`
#' and the naive comparison's bias; `campaign_segment`; `segment_share`);
#' `cost`, the cost of one unit of exposure by channel; `campaign_start`,
#' the first campaign week.
#' @source Simulated by `simulate_three_level_causal(seed = 2024)`; the script
#'   `data-raw/three_level.R` in the package sources regenerates it.
#' @references Ni, X., Yan, L., Xiong, K. and Liu, Y. (2024). A hierarchical
#'   Bayesian market mix model with causal inference for personalized marketing
#'   optimization. *Journal of Artificial Intelligence General Science*, 6(1).
#' @seealso [simulate_three_level_causal()], `vignette("three-level-causal")`.
#' @examples
#' str(three_level)
#' attr(three_level, "effects")$campaign
#' # naive comparison of targeted and other consumers while the campaign runs
#' d <- three_level[three_level$week >= attr(three_level, "campaign_start"), ]
#' tapply(d$sales, d$targeted, mean)
"three_level"

#' Weekly sales with a heterogeneous and a homogeneous TV audience (simulated)
#'
#' The data of the mixture-of-Hills analysis: four markets over 104 weeks of
#' flighted TV and always-on search, simulated twice by [simulate_mmm()] with
#' the same spend, controls and noise (the same seed), once with a TV
#' audience of three segments that saturate at different spend (a mixture of
#' Hill curves, [saturation_hill_mixture()]) and once with a homogeneous
#' audience (one Hill curve). Everything else follows [simulate_mmm()]:
#' normalized geometric adstock (TV decay 0.6, search 0.1), a Hill curve for
#' search (half-saturation 18, slope 1.2), market intercepts, price, promotions
#' and yearly seasonality.
#'
#' True TV audiences (half-saturation in adstocked spend, $k a week):
#' \tabular{lrrr}{
#'   audience \tab halfsat \tab slope \tab weight \cr
#'   heterogeneous \tab 6, 25, 70 \tab 3.5, 3.5, 3.5 \tab 0.30, 0.35, 0.35 \cr
#'   homogeneous \tab 30 \tab 2 \tab 1
#' }
#' with `b_tv = 300` (the sales of a fully saturated audience), `b_search =
#' 130`, `sigma = 20`, market intercept sd 80 and no market variation of the
#' media effects.
#'
#' @format A data frame with 832 rows (2 audiences x 4 markets x 104 weeks,
#'   ordered by audience, market and week) and 11 columns: `audience` (factor,
#'   `"heterogeneous"` or `"homogeneous"`), then the columns of
#'   [simulate_mmm()]'s data for channels `tv` and `search`: `market` (factor
#'   `"M01"` to `"M04"`), `week` (1 to 104), `date`, `sales` ($k), `tv` (spend
#'   in bursts, $k), `search` ($k), `price`, `promo`, `season_sin`,
#'   `season_cos`. Attributes: `"truth"`, a list by audience of the true
#'   parameters named like a fit's draws (`b_tv`, `decay_tv`,
#'   `weight_tv[k]`, `halfsat_tv[k]`, `slope_tv[k]`, ...), and `"segments"`, a
#'   list by audience of the TV segments (`halfsat`, `slope`, `weight`).
#' @source Simulated by `simulate_mmm(n_markets = 4, n_weeks = 104, channels =
#'   c("tv", "search"), beta = c(tv = 300, search = 130), sd_market = c(80, 0,
#'   0), sigma = 20, seed = 2026, mixture = list(tv = <segments>))`; the
#'   script `data-raw/mixture_audience.R` in the package sources regenerates
#'   it. More segments, markets or weeks (the talk's benchmark ran one to five
#'   segments) come from the same call.
#' @seealso [simulate_mmm()], [saturation_hill_mixture()], the vignette
#'   `vignette("mixture-of-hills", package = "hbmmm")`.
#' @examples
#' str(mixture_audience)
#' attr(mixture_audience, "segments")
#'
#' # the true TV response of each audience at steady weekly spend
#' x <- seq(0, 100, length.out = 101)
#' seg <- attr(mixture_audience, "segments")
#' plot(x, 300 * saturation_hill_mixture(x, seg$heterogeneous$halfsat, seg$heterogeneous$slope,
#'                                       seg$heterogeneous$weight),
#'      type = "l", xlab = "TV spend per week ($k)", ylab = "TV response (sales, $k)")
#' lines(x, 300 * saturation_hill(x, 30, 2), lty = 2)
"mixture_audience"
