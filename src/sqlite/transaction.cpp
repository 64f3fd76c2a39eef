#include "creni/sqlite/transaction.hpp"

#include <sqlite3.h>

#include <utility>

#include "creni/sqlite/connection.hpp"

namespace creni::sqlite {

Result<Transaction> Transaction::begin(Connection& connection, TransactionKind kind) {
  if (Status begun = connection.exec(kind == TransactionKind::immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
      !begun) {
    return begun.error();
  }
  return Transaction(&connection);
}

Transaction::Transaction(Transaction&& other) noexcept : connection_(std::exchange(other.connection_, nullptr)) {}

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this != &other) {
    (void)rollback();
    connection_ = std::exchange(other.connection_, nullptr);
  }
  return *this;
}

Transaction::~Transaction() { (void)rollback(); }

Status Transaction::commit() {
  if (connection_ == nullptr) return make_error("invalid_state", "transaction already finished");
  if (Status committed = connection_->exec("COMMIT"); !committed) return committed;
  connection_ = nullptr;
  return {};
}

Status Transaction::rollback() {
  if (connection_ == nullptr) return {};
  Connection* connection = std::exchange(connection_, nullptr);
  // SQLite may already have rolled back by itself (some I/O and full-disk errors do); ROLLBACK would then fail
  // with "no transaction is active", which is not a failure here.
  if (sqlite3_get_autocommit(connection->handle()) != 0) return {};
  return connection->exec("ROLLBACK");
}

}  // namespace creni::sqlite
