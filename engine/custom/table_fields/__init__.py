"""Table fields: dynamic tables (rows that vary, `Items/0/Description`) learned as columns and read row by
row; fixed tables and objects (`Table/Row/Column`) ride on the scalar scorer and are only nested here."""
