#pragma once

#include "creni/common/result.hpp"

namespace creni::sqlite {

class Connection;

/// How a transaction takes its locks.
enum class TransactionKind {
  /// BEGIN IMMEDIATE: takes the write lock at once (waiting up to the busy timeout), so that a read-then-write
  /// sequence can never fail half-way with "busy" because another connection wrote in between.
  immediate,
  /// BEGIN DEFERRED: takes a read lock at the first read; for consistent multi-statement reads (works read-only).
  deferred,
};

/// A transaction on one Connection (RAII): rolled back by the destructor unless commit() succeeded.
/// Movable, not copyable; it must not outlive its connection. Same thread-safety as the connection.
class Transaction {
 public:
  /// Starts a transaction. Errors: "busy" (another connection held the write lock past the busy timeout),
  /// "sqlite_error" (for example a transaction is already open on this connection).
  [[nodiscard]] static Result<Transaction> begin(Connection& connection,
                                                 TransactionKind kind = TransactionKind::immediate);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&& other) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  /// Commits; once it returns ok the changes are durable as far as the connection's synchronous setting
  /// promises. On error the transaction is rolled back (by the destructor at the latest).
  /// Errors: "busy", "sqlite_error", "invalid_state" (already committed or rolled back).
  [[nodiscard]] Status commit();

  /// Rolls back now instead of in the destructor. Errors: "sqlite_error".
  [[nodiscard]] Status rollback();

 private:
  explicit Transaction(Connection* connection) : connection_(connection) {}

  Connection* connection_ = nullptr;  // null once committed, rolled back or moved from
};

}  // namespace creni::sqlite
