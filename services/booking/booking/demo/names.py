"""French given and family names for the demo staff.

Chosen to exercise what real directories contain: accents (Hélène, Loïc,
Lefèvre), hyphenated given names (Marie-Hélène, Jean-Baptiste), compound and
hyphenated family names (Saint-Martin, Lefèvre-Durand), particles (de La
Fontaine, d'Almeida, Le Gall), apostrophes (N'Diaye) and names of every
origin found in a French town hall.
"""

FEMALE = (
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise", "Valérie",
    "Christine", "Sandrine", "Céline", "Stéphanie", "Véronique", "Aurélie", "Émilie",
    "Julie", "Sophie", "Laetitia", "Élodie", "Caroline", "Hélène", "Anne", "Virginie",
    "Audrey", "Mélanie", "Delphine", "Karine", "Chloé", "Léa", "Manon", "Camille",
    "Inès", "Zoé", "Anaïs", "Maëlle", "Noémie", "Océane", "Gaëlle", "Agnès", "Bérénice",
    "Clémence", "Josiane", "Brigitte", "Fatima", "Nadia", "Yasmine", "Aïcha", "Mélissa",
    "Ophélie", "Solène", "Morgane", "Justine", "Pauline", "Claire", "Margaux",
    "Marie-Hélène", "Anne-Sophie", "Marie-Claire", "Marie-Christine", "Anne-Laure",
    "Marie-Pierre", "Marie-Thérèse", "Lou-Anne", "Dominique", "Claude", "Annick",
    "Maryvonne", "Soizic", "Nolwenn", "Chantal", "Ghislaine", "Mireille", "Geneviève",
)

MALE = (
    "Nicolas", "Philippe", "Christophe", "Stéphane", "Frédéric", "Laurent", "Sébastien",
    "Olivier", "Thierry", "Pascal", "David", "Éric", "Julien", "Jérôme", "Vincent",
    "Franck", "Patrick", "Thomas", "Alexandre", "Cédric", "Mathieu", "Guillaume",
    "Romain", "Antoine", "Maxime", "Hugo", "Lucas", "Théo", "Clément", "Aurélien",
    "Benoît", "Loïc", "Gaël", "Joël", "Noël", "Hervé", "Grégory", "Rémi", "Benjamin",
    "Kévin", "Yannick", "Mickaël", "Karim", "Mohamed", "Rachid", "Mehdi", "Samir",
    "Yann", "Erwan", "Gwenaël", "Ludovic", "Damien", "Fabrice", "Gilles", "Bruno",
    "Jean-Baptiste", "Jean-Pierre", "Jean-Luc", "Jean-François", "Pierre-Yves",
    "François-Xavier", "Jean-Marc", "Paul-Henri", "Jean-Michel", "Dominique", "Claude",
    "Camille", "Marc-Antoine", "Jean", "Pierre", "Michel", "Alain", "André", "René",
)

FAMILY = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Leroy", "Moreau", "Simon", "Laurent", "Lefèbvre", "Michel", "Garcia", "David",
    "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Lefèvre",
    "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand",
    "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel",
    "Nicolas", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez",
    "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez", "Gérard", "Nguyen", "Boyer",
    "Denis", "Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche", "Roy", "Noël",
    "Meyer", "Lucas", "Meunier", "Pérez", "Marchand", "Dufour", "Blanchard", "Barbier",
    "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin", "Fernandez", "Renard",
    "Arnaud", "Rolland", "Caron", "Aubert", "Giraud", "Leclerc", "Vidal", "Bourgeois",
    "Renaud", "Lemoine", "Picard", "Gaillard", "Lacroix", "Fabre", "Dupuis", "Olivier",
    "Rodriguez", "Da Silva", "Hubert", "Rivière", "Le Gall", "Le Goff", "Le Floch",
    "Le Roux", "Guillaume", "Moulin", "Berger", "Lecomte", "Ménard", "Fleury",
    "Deschamps", "Carpentier", "Prévost", "Poirier", "Charpentier", "Huet", "Dupuy",
    "Carré", "Rémy", "Barré", "Cousin", "Besnard", "Bouchet", "Texier", "Pelletier",
    "Lévêque", "Mallet", "Hamon", "Tanguy", "Kerouac", "Quéméner", "Diallo", "Traoré",
    "N'Diaye", "Benali", "Haddad", "Bensaïd", "Ben Ahmed", "El Amrani", "Kowalski",
    "Nowak", "Dos Santos", "Pereira", "Ferreira", "Rossi", "Bianchi", "Tran", "Pham",
    "Saint-Martin", "Lefèvre-Durand", "Giraud-Mounier", "de La Fontaine", "d'Almeida",
    "de Saint-Exupéry", "du Pont", "de Lattre", "Le Bihan", "Delacroix", "Desmoulins",
    "Cœurdevey", "Bœuf", "Lœillet", "Jégou", "Hébert", "Thébault", "Géraud",
)
