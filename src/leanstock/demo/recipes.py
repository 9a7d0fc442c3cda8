"""The demo bakery's recipes: what one of each made item takes, by ingredient name.

Quantities are in the ingredient's own unit (kg, l, or each for eggs); they become the bills
of materials that the generated history bakes by, and that `leanstock demo` loads.
"""

from __future__ import annotations

RECIPES: dict[str, tuple[tuple[str, float], ...]] = {
    # Breads, per loaf
    "Sourdough loaf": (
        ("Strong white bread flour", 0.45),
        ("Rye flour", 0.05),
        ("Fine sea salt", 0.01),
    ),
    "Baguette": (
        ("Strong white bread flour", 0.25),
        ("Dried yeast", 0.002),
        ("Fine sea salt", 0.005),
    ),
    "Rye loaf": (
        ("Rye flour", 0.35),
        ("Strong white bread flour", 0.1),
        ("Dried yeast", 0.003),
        ("Fine sea salt", 0.008),
    ),
    "Wholemeal loaf": (("Wholemeal flour", 0.45), ("Dried yeast", 0.005), ("Fine sea salt", 0.008)),
    "Seeded loaf": (
        ("Strong white bread flour", 0.3),
        ("Spelt flour", 0.05),
        ("Sunflower seeds", 0.03),
        ("Pumpkin seeds", 0.03),
        ("Sesame seeds", 0.01),
        ("Poppy seeds", 0.01),
        ("Dried yeast", 0.005),
        ("Fine sea salt", 0.008),
    ),
    "Focaccia": (
        ("Type 00 flour", 0.4),
        ("Semolina", 0.01),
        ("Dried yeast", 0.004),
        ("Fine sea salt", 0.01),
    ),
    "Brioche loaf": (
        ("Strong white bread flour", 0.3),
        ("Unsalted butter", 0.12),
        ("Free-range eggs", 3),
        ("Caster sugar", 0.04),
        ("Whole milk", 0.05),
        ("Dried yeast", 0.006),
    ),
    # Viennoiserie, per piece
    "Croissant": (
        ("Strong white bread flour", 0.06),
        ("Unsalted butter", 0.03),
        ("Caster sugar", 0.006),
        ("Whole milk", 0.02),
        ("Dried yeast", 0.001),
    ),
    "Pain au chocolat": (
        ("Strong white bread flour", 0.06),
        ("Unsalted butter", 0.03),
        ("Dark chocolate chips", 0.012),
        ("Whole milk", 0.02),
        ("Dried yeast", 0.001),
    ),
    "Almond croissant": (
        ("Strong white bread flour", 0.06),
        ("Unsalted butter", 0.035),
        ("Ground almonds", 0.02),
        ("Icing sugar", 0.01),
        ("Dried yeast", 0.001),
    ),
    "Cinnamon bun": (
        ("Plain flour", 0.07),
        ("Unsalted butter", 0.02),
        ("Semi-skimmed milk", 0.03),
        ("Light brown sugar", 0.015),
        ("Ground cinnamon", 0.002),
        ("Dried yeast", 0.001),
    ),
    "Cardamom bun": (
        ("Plain flour", 0.07),
        ("Unsalted butter", 0.02),
        ("Oat milk", 0.03),
        ("Caster sugar", 0.015),
        ("Dried yeast", 0.001),
    ),
    # Cakes, made to order, per whole cake (eight slices)
    "Carrot cake": (
        ("Plain flour", 0.24),
        ("Light brown sugar", 0.2),
        ("Free-range eggs", 4),
        ("Walnuts", 0.08),
        ("Cream cheese", 0.16),
        ("Ground cinnamon", 0.008),
    ),
    "Lemon drizzle cake": (
        ("Plain flour", 0.24),
        ("Caster sugar", 0.24),
        ("Unsalted butter", 0.2),
        ("Free-range eggs", 4),
        ("Greek yogurt", 0.1),
        ("Lemons", 0.16),
        ("Icing sugar", 0.08),
    ),
    "Chocolate fudge cake": (
        ("Plain flour", 0.2),
        ("Cocoa powder", 0.08),
        ("Caster sugar", 0.24),
        ("Unsalted butter", 0.2),
        ("Free-range eggs", 4),
        ("Hazelnuts", 0.05),
        ("Double cream", 0.16),
    ),
    "Baked cheesecake": (
        ("Cream cheese", 0.64),
        ("Caster sugar", 0.16),
        ("Free-range eggs", 5),
        ("Double cream", 0.16),
    ),
    "Banana bread": (
        ("Plain flour", 0.24),
        ("Light brown sugar", 0.16),
        ("Unsalted butter", 0.12),
        ("Free-range eggs", 3),
        ("Walnuts", 0.04),
    ),
    # Cookies, per cookie
    "Chocolate chip cookie": (
        ("Plain flour", 0.025),
        ("Unsalted butter", 0.015),
        ("Light brown sugar", 0.015),
        ("Dark chocolate chips", 0.012),
    ),
    "Oat and raisin cookie": (
        ("Rolled oats", 0.02),
        ("Plain flour", 0.015),
        ("Unsalted butter", 0.015),
        ("Demerara sugar", 0.012),
        ("Raisins", 0.01),
    ),
    "Double chocolate cookie": (
        ("Plain flour", 0.022),
        ("Cocoa powder", 0.006),
        ("Unsalted butter", 0.015),
        ("Caster sugar", 0.015),
        ("Dark chocolate chips", 0.012),
    ),
    # Savoury, per piece
    "Sausage roll": (("Plain flour", 0.04), ("Unsalted butter", 0.03), ("Fine sea salt", 0.001)),
    "Spinach and feta quiche": (
        ("Plain flour", 0.04),
        ("Unsalted butter", 0.02),
        ("Free-range eggs", 1),
        ("Double cream", 0.05),
        ("Whole milk", 0.03),
    ),
    "Ham and cheese sandwich": (("Baguette", 1), ("Salted butter", 0.01)),
    "Falafel wrap": (("Type 00 flour", 0.08), ("Sesame seeds", 0.005), ("Fine sea salt", 0.002)),
    # Seasonal bakes, per piece
    "Hot cross bun": (
        ("Strong white bread flour", 0.06),
        ("Unsalted butter", 0.01),
        ("Caster sugar", 0.01),
        ("Sultanas", 0.01),
        ("Ground cinnamon", 0.001),
        ("Dried yeast", 0.001),
    ),
    "Mince pie": (
        ("Plain flour", 0.03),
        ("Unsalted butter", 0.015),
        ("Raisins", 0.015),
        ("Sultanas", 0.01),
        ("Icing sugar", 0.005),
    ),
    "Stollen slice": (
        ("Strong white bread flour", 0.03),
        ("Unsalted butter", 0.012),
        ("Ground almonds", 0.01),
        ("Raisins", 0.01),
        ("Icing sugar", 0.005),
        ("Dried yeast", 0.001),
    ),
    "Strawberry tart": (
        ("Plain flour", 0.03),
        ("Unsalted butter", 0.015),
        ("Strawberries", 0.06),
        ("Double cream", 0.02),
        ("Caster sugar", 0.01),
    ),
    "Pumpkin loaf": (
        ("Plain flour", 0.04),
        ("Light brown sugar", 0.02),
        ("Free-range eggs", 1),
        ("Pumpkin seeds", 0.005),
        ("Bramley apples", 0.03),
        ("Ground cinnamon", 0.001),
        ("Unsalted butter", 0.015),
    ),
}
"""What one of each made item takes, by ingredient name (kg, l or each as the ingredient is
counted): the bills of materials of the demo bakery."""

BAKE_DAYS = 1
"""Days from releasing a bake to having it on the shelf (the BOMs' lead time)."""
