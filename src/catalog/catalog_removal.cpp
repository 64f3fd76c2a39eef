#include <filesystem>

#include "creni/catalog/catalog.hpp"
#include "creni/sqlite/statement.hpp"
#include "creni/sqlite/transaction.hpp"

namespace creni::catalog {


Result<int> Catalog::remove_images(const std::vector<StoredImage>& images) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  int removed = 0;
  for (const auto& image : images) {
    // The chain of ids above the image, read before the image row goes.
    auto chain = connection_.prepare(
        "SELECT i.id, se.id, st.id, st.referenceId FROM image i LEFT JOIN series se ON se.id = i.referenceId "
        "LEFT JOIN study st ON st.id = se.referenceId WHERE i.SOPInstanceUID = ?1 AND i.PrivateCreator = ?2");
    if (!chain) return chain.error();
    if (Status bound = chain->bind(1, image.sop_instance_uid); !bound) return bound.error();
    if (Status bound = chain->bind(2, std::filesystem::absolute(image.stored_as).string()); !bound) return bound.error();
    auto row = chain->step();
    if (!row) return row.error();
    if (!row.value()) continue;
    const std::int64_t ids[] = {chain->column_int64(0), chain->column_int64(1), chain->column_int64(2),
                                chain->column_int64(3)};
    const bool known[] = {true, !chain->column_is_null(1), !chain->column_is_null(2), !chain->column_is_null(3)};
    // Each level goes only when nothing else hangs below it; the image itself always goes.
    constexpr const char* kDeletes[] = {
        "DELETE FROM image WHERE id = ?1",
        "DELETE FROM series WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM image WHERE referenceId = ?1)",
        "DELETE FROM study WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM series WHERE referenceId = ?1)",
        "DELETE FROM patient WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM study WHERE referenceId = ?1)",
    };
    for (int level = 0; level < 4; ++level) {
      if (!known[level]) break;
      auto statement = connection_.prepare(kDeletes[level]);
      if (!statement) return statement.error();
      if (Status bound = statement->bind(1, ids[level]); !bound) return bound.error();
      auto done = statement->step();
      if (!done) return done.error();
      if (level == 0) removed += connection_.changes();
      if (connection_.changes() == 0) break;  // still in use: so are its parents
    }
  }
  if (Status committed = transaction->commit(); !committed) return committed.error();
  return removed;
}

}  // namespace creni::catalog
