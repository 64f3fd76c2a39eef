#pragma once

/// The prometheus-cpp types the metric handles keep references to, declared without prometheus-cpp's headers so
/// that modules incrementing a handle never compile against prometheus-cpp (only the metrics library links it).
namespace prometheus {
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus
