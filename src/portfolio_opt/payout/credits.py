"""Joint-marketing credits (聯動營銷): a customer's income split between managers by share.

The holder keeps ``1 - sum(shares)``; a credit naming the holder simply adds to that. Splits
are made in whole cents and never lose one: each customer's amounts add up exactly over the
managers it is split between (an odd cent goes to the largest remainder, the holder on ties).
"""

from __future__ import annotations

import pandas as pd

from portfolio_opt.payout.cents import apportion, to_cents
from portfolio_opt.payout.frames import numbers, text


def credit_shares(assignment: pd.DataFrame, credits: pd.DataFrame) -> pd.DataFrame:
    """Who is credited with which share of each assigned customer.

    Parameters
    ----------
    assignment
        Columns ``customer_id``, ``manager_id`` (the holder).
    credits
        Columns ``customer_id``, ``manager_id``, ``share``; credits for customers that are
        not in the assignment are left out (there is no holder to take them from).

    Returns
    -------
    DataFrame
        Columns ``customer_id, manager_id, share``; per customer the shares add up to 1, the
        holder's row first. Repeated (customer, manager) pairs are merged.
    """
    holders = pd.DataFrame(
        {
            "customer_id": text(assignment, "customer_id"),
            "manager_id": text(assignment, "manager_id"),
        }
    ).drop_duplicates("customer_id")
    credited = pd.DataFrame(
        {
            "customer_id": text(credits, "customer_id"),
            "manager_id": text(credits, "manager_id"),
            "share": numbers(credits, "share"),
        }
    )
    credited = credited[credited["customer_id"].isin(holders["customer_id"])]
    given = credited.groupby("customer_id")["share"].sum()
    holders["share"] = 1.0 - given.reindex(holders["customer_id"]).fillna(0.0).to_numpy()
    rows = pd.concat([holders, credited], ignore_index=True)
    return rows.groupby(["customer_id", "manager_id"], sort=False, as_index=False)["share"].sum()


def split_by_shares(values: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """Money per manager: each customer's ``values`` split by ``shares``, exact to the cent.

    Parameters
    ----------
    values
        Money per customer (index ``customer_id``), one column per quantity.
    shares
        As from :func:`credit_shares`. Customers missing from ``values`` count as 0.

    Returns
    -------
    DataFrame
        Index ``manager_id`` (managers in ``shares``, first-seen order), same columns as
        ``values``. Each column adds up to the total of the customers in ``shares``.
    """
    customer = shares["customer_id"].astype(str).to_numpy()
    manager = shares["manager_id"].astype(str).to_numpy()
    share = shares["share"].to_numpy(dtype=float)[:, None]
    codes, uniques = pd.factorize(customer)
    cents = to_cents(values.astype(float)).groupby(level=0).sum()
    whole = cents.reindex(uniques).fillna(0.0).to_numpy()
    split = apportion(whole[codes] * share, codes, whole)
    per_row = pd.DataFrame(
        split, columns=values.columns, index=pd.Index(manager, name="manager_id")
    )
    return per_row.groupby(level="manager_id", sort=False).sum() / 100
