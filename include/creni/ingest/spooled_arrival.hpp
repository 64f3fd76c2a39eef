#pragma once

#include <filesystem>
#include <optional>

#include "creni/ingest/arrival_sink.hpp"

namespace creni::ingest {

/// The Arrival an SCP spool file was acknowledged as, rebuilt from the arrival record the SCP writes into the file's
/// Part 10 preamble (PS3.10 section 7.1 leaves its 128 bytes to the application) before the one sync that makes
/// image and record durable together. The record holds the gateway, the association, the file's size and the
/// SHA-256 of its data set; the SOP UIDs come from the meta group, which the SCP wrote from the C-STORE command.
/// Returns nothing unless the record is there and the file's size and data set hash match it: a file cut short by a
/// crash, or one whose record reached the disk without all of its data, is never taken for a received image.
/// Used at start for spool files the journal has no row for (a crash between the sync and the journal commit, or a
/// power cut that took an unsynced journal commit).
[[nodiscard]] std::optional<Arrival> recover_spooled_arrival(const std::filesystem::path& spool_file);

}  // namespace creni::ingest
